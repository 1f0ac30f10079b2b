/** One dispatched server-sent event. */
export interface ServerSentEvent {
  readonly event: string;
  readonly data: string;
}

/**
 * An incremental `text/event-stream` parser (the WHATWG "event stream interpretation"): feed it text
 * as it arrives; it calls `onEvent` for each dispatched event and `onRetry` for each `retry:` field.
 * Comments (heartbeats) are skipped. Events are dispatched synchronously from `push`, so a caller
 * that feeds a socket's data in its `data` handler has applied every complete event before the
 * next macrotask.
 *
 * @example
 * const parser = createSseParser((e) => console.log(e.event, e.data));
 * parser.push('event: ready\ndata: {}\n\n');
 */
export function createSseParser(onEvent: (event: ServerSentEvent) => void, onRetry: (ms: number) => void = () => {}): { push(text: string): void } {
  let buffer = '';
  let eventName = '';
  let data: string[] = [];

  function line(text: string): void {
    if (text === '') {
      if (data.length > 0) onEvent({ event: eventName || 'message', data: data.join('\n') });
      eventName = '';
      data = [];
      return;
    }
    if (text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') eventName = value;
    else if (field === 'data') data.push(value);
    else if (field === 'retry' && /^\d+$/.test(value)) onRetry(Number(value));
  }

  return {
    push(text) {
      buffer += text;
      let start = 0;
      for (let i = 0; i < buffer.length; i++) {
        const char = buffer[i];
        if (char !== '\n' && char !== '\r') continue;
        // A CR at the very end may be the first half of a CRLF: wait for the next chunk.
        if (char === '\r' && i === buffer.length - 1) break;
        line(buffer.slice(start, i));
        if (char === '\r' && buffer[i + 1] === '\n') i++;
        start = i + 1;
      }
      buffer = buffer.slice(start);
    },
  };
}
