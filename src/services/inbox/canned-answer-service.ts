import {
  CANNED_ANSWERS_MAX,
  expandPlaceholders,
  normalizeSignature,
  placeholderValues,
} from '../../domain/placeholders.js';
import { PosternError } from '../../errors/index.js';
import {
  countCannedAnswers,
  createCannedAnswer,
  deleteCannedAnswer,
  findUserById,
  getCannedAnswer,
  getContact,
  getInteraction,
  getUserSignature,
  isAccountAgent,
  listCannedAnswers,
  requireEmailAccount,
  setUserSignature,
  updateCannedAnswer,
  type CannedAnswerRecord,
  type Database,
} from '../../store/index.js';

/** Who asks: an agent manages their personal answers, an administrator the shared ones too. */
export interface CannedViewer {
  readonly userId: number;
  readonly role: 'admin' | 'agent';
}

/** A canned answer as typed in the management form. */
export interface CannedAnswerInput {
  readonly title: string;
  readonly body: string;
  readonly shared: boolean;
}

/** What the composer of one conversation inserts: the signature and the answers, placeholders filled. */
export interface ComposerInserts {
  /** The agent's signature, then the account's, a blank line between; null when neither is set. */
  readonly signature: string | null;
  readonly answers: ReadonlyArray<{ id: number; title: string; body: string; shared: boolean }>;
}

/**
 * Canned answers and signatures. Shared answers are seen by every user and changed by
 * administrators only; a personal answer exists for its owner alone (anyone else is told there is
 * no such answer, administrators included). What the composer inserts is filled in here, for the
 * conversation, its contact, the account and the agent who writes (domain/placeholders.ts).
 */
export class CannedAnswerService {
  constructor(private readonly db: Database) {}

  /** The shared answers and the viewer's own, by title. */
  list(viewer: CannedViewer): Promise<CannedAnswerRecord[]> {
    return listCannedAnswers(this.db, viewer.userId);
  }

  /** One answer the viewer may see. @throws PosternError RESOURCE_NOT_FOUND */
  async get(viewer: CannedViewer, id: number): Promise<CannedAnswerRecord> {
    const answer = await getCannedAnswer(this.db, id);
    if (answer === undefined || (!answer.shared && answer.ownerUserId !== viewer.userId)) throw notFound(id);
    return answer;
  }

  /**
   * Adds an answer: a personal one of the viewer, or a shared one (administrators only).
   * @throws PosternError CANNED_ANSWER_SHARED_ADMIN_ONLY, CANNED_ANSWER_LIMIT_REACHED
   */
  async create(viewer: CannedViewer, input: CannedAnswerInput): Promise<CannedAnswerRecord> {
    if (input.shared) requireAdmin(viewer);
    const ownerUserId = input.shared ? null : viewer.userId;
    return this.db.transaction(async (tx) => {
      if ((await countCannedAnswers(tx, ownerUserId)) >= CANNED_ANSWERS_MAX) {
        throw new PosternError('CANNED_ANSWER_LIMIT_REACHED', {
          message: `There are already ${CANNED_ANSWERS_MAX} ${input.shared ? 'shared canned answers' : 'canned answers of yours'}: no more can be added.`,
          details: { limit: CANNED_ANSWERS_MAX, shared: input.shared },
        });
      }
      return createCannedAnswer(tx, { title: input.title, body: input.body, ownerUserId });
    });
  }

  /**
   * Changes an answer. A shared answer is changed by administrators only, and only they make an
   * answer shared; an administrator who unshares one makes it their own.
   * @throws PosternError RESOURCE_NOT_FOUND, CANNED_ANSWER_SHARED_ADMIN_ONLY, CANNED_ANSWER_LIMIT_REACHED
   */
  async update(viewer: CannedViewer, id: number, changes: Partial<CannedAnswerInput>): Promise<CannedAnswerRecord> {
    const current = await this.get(viewer, id);
    const shared = changes.shared ?? current.shared;
    if (current.shared || shared) requireAdmin(viewer);
    const ownerUserId = shared ? null : current.shared ? viewer.userId : current.ownerUserId;
    return this.db.transaction(async (tx) => {
      if (shared !== current.shared && (await countCannedAnswers(tx, ownerUserId)) >= CANNED_ANSWERS_MAX) {
        throw new PosternError('CANNED_ANSWER_LIMIT_REACHED', { details: { limit: CANNED_ANSWERS_MAX, shared } });
      }
      const updated = await updateCannedAnswer(tx, id, {
        title: changes.title ?? current.title,
        body: changes.body ?? current.body,
        ownerUserId,
      });
      if (updated === undefined) throw notFound(id);
      return updated;
    });
  }

  /** Deletes an answer. @throws PosternError RESOURCE_NOT_FOUND, CANNED_ANSWER_SHARED_ADMIN_ONLY */
  async remove(viewer: CannedViewer, id: number): Promise<void> {
    const current = await this.get(viewer, id);
    if (current.shared) requireAdmin(viewer);
    if (!(await deleteCannedAnswer(this.db, id))) throw notFound(id);
  }

  /** The viewer's own signature (null when none). */
  signature(viewer: CannedViewer): Promise<string | null> {
    return getUserSignature(this.db, viewer.userId);
  }

  /** Sets the viewer's own signature; blank removes it. Returns what was stored. */
  async setSignature(viewer: CannedViewer, signature: string | null): Promise<string | null> {
    const stored = normalizeSignature(signature);
    await setUserSignature(this.db, viewer.userId, stored);
    return stored;
  }

  /**
   * The signature and the canned answers of a conversation's reply, placeholders filled for its
   * contact, its account and the viewer.
   * @throws PosternError RESOURCE_NOT_FOUND for a conversation the viewer cannot see.
   */
  async inserts(viewer: CannedViewer, interactionId: number): Promise<ComposerInserts> {
    const interaction = await getInteraction(this.db, interactionId);
    const visible =
      interaction !== undefined &&
      (viewer.role === 'admin' || (await isAccountAgent(this.db, interaction.accountId, viewer.userId)));
    if (!visible) {
      throw new PosternError('RESOURCE_NOT_FOUND', {
        message: `There is no interaction ${interactionId}.`,
        details: { resource: 'interaction', id: interactionId },
      });
    }
    const [account, contact, user, own, answers] = await Promise.all([
      requireEmailAccount(this.db, interaction.accountId),
      getContact(this.db, interaction.contactId),
      findUserById(this.db, viewer.userId),
      getUserSignature(this.db, viewer.userId),
      listCannedAnswers(this.db, viewer.userId),
    ]);
    const values = placeholderValues({
      contactName: contact?.name ?? null,
      contactAddress: contact?.addresses[0] ?? null,
      agentName: user?.displayName ?? '',
      accountName: account.name,
      reference: interaction.subjectToken,
    });
    const parts = [own, account.signature].filter((part): part is string => part !== null);
    return {
      signature: parts.length === 0 ? null : expandPlaceholders(parts.join('\n\n'), values),
      answers: answers.map((answer) => ({
        id: answer.id,
        title: answer.title,
        body: expandPlaceholders(answer.body, values),
        shared: answer.shared,
      })),
    };
  }
}

function requireAdmin(viewer: CannedViewer): void {
  if (viewer.role !== 'admin') throw new PosternError('CANNED_ANSWER_SHARED_ADMIN_ONLY');
}

function notFound(id: number): PosternError {
  return new PosternError('RESOURCE_NOT_FOUND', {
    message: `There is no canned answer ${id}.`,
    details: { resource: 'cannedAnswer', id },
  });
}
