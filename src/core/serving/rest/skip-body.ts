// Skipping the unread rest of a request body that was refused before it was read (admission control: 503 at once).
//
// Why: node:http discards such a body by reading it, and its HTTP parser (C++) copies every body chunk into a new
// Buffer before handing it to JavaScript. At 5x overload with 300 KB bodies that was ~70 MB/s of Buffers nobody
// reads; V8 counts ArrayBuffer memory as external memory and answers its growth with full mark-compacts on the HTTP
// thread: 5-10 per second of 3-17 ms each, and event-loop stalls of 40-80 ms p99 (monitorEventLoopDelay) that showed
// up as the clients' time to reject (bench/chaos --only overload; docs/serve.md "Stop 11").
//
// How: the parser looks up its on-body callback for every chunk and copies the chunk only when that callback is a
// function. Clearing the slot for the rest of this message makes the parser step over the body bytes (it still
// frames them, so the connection stays in sync for the next request); the slot is put back when the message
// completes or the connection closes (parsers are pooled and reused by later connections).
//
// The slots are node:http internals (numbered properties of the parser holding `parserOnBody` and
// `parserOnMessageComplete`, unchanged since Node 12). They are found by those functions' names; where they are not
// found (another runtime or a future Node), nothing is changed and node:http reads and discards the body as before.
import type http from 'node:http';

type ParserSlots = Record<string, unknown>;

let slots: { body: string; complete: string } | null | undefined;

/** The parser's on-body and on-message-complete slot keys, found once (null: not this kind of parser). */
function findSlots(parser: ParserSlots): { body: string; complete: string } | null {
  if (slots !== undefined) return slots;
  let body: string | undefined;
  let complete: string | undefined;
  for (const k of Object.keys(parser)) {
    const v = parser[k];
    if (typeof v !== 'function') continue;
    if (v.name === 'parserOnBody') body = k;
    else if (v.name === 'parserOnMessageComplete') complete = k;
  }
  slots = body !== undefined && complete !== undefined ? { body, complete } : null;
  return slots;
}

/**
 * Makes node:http step over the rest of `req`'s body without copying it into JavaScript. Call it only when nothing
 * will read the body (the answer is decided). Returns whether it did: false when the body is already complete, the
 * request has no parser (HTTP/2 compatibility API) or the parser is not node:http's as known here.
 */
export function skipUnreadBody(req: http.IncomingMessage): boolean {
  // A complete request's parser may already be in the next request on the connection (pipelining): leave it.
  if (req.complete) return false;
  const socket = req.socket as (typeof req.socket & { parser?: ParserSlots | null }) | null;
  const parser = socket?.parser;
  if (!socket || !parser) return false;
  const s = findSlots(parser);
  if (!s) return false;
  const onBody = parser[s.body];
  const onComplete = parser[s.complete];
  if (typeof onBody !== 'function' || typeof onComplete !== 'function') return false; // skipping already
  const restore = (): void => {
    parser[s.body] = onBody;
    parser[s.complete] = onComplete;
    socket.off('close', restore);
  };
  parser[s.body] = null;
  parser[s.complete] = function (this: unknown, ...args: unknown[]) {
    restore();
    return (onComplete as (...a: unknown[]) => unknown).apply(this, args);
  };
  // Closed mid-body: node:http returns the parser to its pool on 'close' (its listener runs before this one).
  socket.on('close', restore);
  return true;
}
