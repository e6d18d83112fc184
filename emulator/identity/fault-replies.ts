/**
 * How the identity endpoints act out an injected fault: a Microsoft-shaped 500 (AADSTS50000,
 * `server_error`), a bare 503 with Retry-After as a front end would send, `temporarily_unavailable`
 * (AADSTS90033), a delay before normal handling, or a connection dropped without a response.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.js';
import type { FaultInjector } from '../control/faults.js';
import { aadsts } from './aadsts.js';
import { noteOutcome, sendAadError } from './http-support.js';

/**
 * Applies the next pending fault of `target`. Returns true when the reply was taken care of
 * (the handler must stop), false when the request should be handled normally (no fault, or
 * after a delay).
 */
export async function applyFault(
  faults: FaultInjector,
  target: string,
  request: FastifyRequest,
  reply: FastifyReply,
  clock: Clock,
): Promise<boolean> {
  const fault = faults.take(target);
  if (fault === undefined) return false;
  noteOutcome(request, { fault: fault.kind });
  switch (fault.kind) {
    case 'delay':
      await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
      return false;
    case 'drop':
      request.raw.socket.destroy();
      reply.hijack();
      return true;
    case 'http-500':
      sendAadError(
        request,
        reply,
        aadsts(50000, {}, fault.status === undefined ? {} : { status: fault.status }),
        clock,
      );
      return true;
    case 'temporarily_unavailable':
      sendAadError(
        request,
        reply,
        aadsts(90033, {}, fault.status === undefined ? {} : { status: fault.status }),
        clock,
      );
      return true;
    case 'http-503':
      noteOutcome(request, { error: 'service_unavailable' });
      if (fault.retryAfterSeconds !== undefined) reply.header('retry-after', String(fault.retryAfterSeconds));
      reply
        .code(fault.status ?? 503)
        .type('text/html; charset=utf-8')
        .send(
          '<!DOCTYPE html><html><head><title>Service Unavailable</title></head><body><h1>Service Unavailable</h1><p>HTTP Error 503. The service is unavailable.</p></body></html>',
        );
      return true;
  }
}
