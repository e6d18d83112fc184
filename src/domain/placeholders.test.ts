import { describe, expect, it } from 'vitest';
import { expandPlaceholders, placeholderValues, unknownPlaceholders } from './placeholders.js';

const values = placeholderValues({
  contactName: 'Ada Lovelace',
  contactAddress: 'ada@example.com',
  agentName: 'Grace',
  accountName: 'Contoso Support',
  reference: '#P12-7KQX',
});

describe('expandPlaceholders', () => {
  it('fills every known placeholder', () => {
    expect(
      expandPlaceholders(
        'Dear {{contact.firstName}} ({{contact.name}}), {{agent.name}} of {{account.name}} — {{conversation.reference}}',
        values,
      ),
    ).toBe('Dear Ada (Ada Lovelace), Grace of Contoso Support — #P12-7KQX');
  });

  it('allows spaces inside the braces and fills repeated placeholders', () => {
    expect(expandPlaceholders('{{ agent.name }} and {{agent.name}}', values)).toBe('Grace and Grace');
  });

  it('leaves unknown placeholders and stray braces exactly as typed', () => {
    const text = 'Hi {{contact.nmae}}, {{ }} {{agent.name} }} {{ and }} {single} {{{{agent.name}}';
    expect(expandPlaceholders(text, values)).toBe(
      'Hi {{contact.nmae}}, {{ }} {{agent.name} }} {{ and }} {single} {{Grace',
    );
  });

  it('reads a value that itself looks like a placeholder as plain text', () => {
    const tricky = placeholderValues({
      contactName: '{{agent.name}}',
      contactAddress: null,
      agentName: 'Grace',
      accountName: 'A',
      reference: null,
    });
    expect(expandPlaceholders('{{contact.name}}/{{conversation.reference}}/', tricky)).toBe('{{agent.name}}//');
  });

  it('treats braces that close too far away as text', () => {
    const far = `{{${' '.repeat(100)}agent.name}}`;
    expect(expandPlaceholders(far, values)).toBe(far);
  });

  it('scans a hostile text in linear time', () => {
    const hostile = '{{'.repeat(200_000) + ' x'.repeat(100_000) + '}}';
    const started = process.hrtime.bigint();
    expect(expandPlaceholders(hostile, values)).toBe(hostile);
    expect(unknownPlaceholders(hostile)).toEqual([]);
    // Quadratic work on 700,000 characters would take minutes; linear work takes milliseconds.
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(2_000);
  });
});

describe('unknownPlaceholders', () => {
  it('names each unknown placeholder once, trimmed, in order', () => {
    expect(unknownPlaceholders('{{ order.id }} {{contact.name}} {{agent.nam}} {{order.id}}')).toEqual([
      'order.id',
      'agent.nam',
    ]);
  });

  it('finds none in a text without placeholders', () => {
    expect(unknownPlaceholders('Thanks, see you {soon}.')).toEqual([]);
  });
});

describe('placeholderValues', () => {
  it('calls a contact without a name by its address, first name included', () => {
    const v = placeholderValues({
      contactName: ' ',
      contactAddress: 'bob@example.com',
      agentName: 'G',
      accountName: 'A',
      reference: null,
    });
    expect(v['contact.name']).toBe('bob@example.com');
    expect(v['contact.firstName']).toBe('bob@example.com');
  });

  it('takes a one-word name whole as the first name', () => {
    const v = placeholderValues({
      contactName: 'Cher',
      contactAddress: null,
      agentName: 'G',
      accountName: 'A',
      reference: null,
    });
    expect(v['contact.firstName']).toBe('Cher');
  });
});
