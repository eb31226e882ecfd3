/**
 * Whether a request's client is still there. `Deno.serve` aborts `request.signal` when the client leaves;
 * our server (`server.ts`) notices a closed connection too, but instead of giving every request a signal
 * (a dependent `AbortSignal` costs more than the rest of building a small request) it records a
 * {@linkcode Departure} beside the request, whose signal is made only when a handler asks for it.
 * {@linkcode clientSignal} gives the right one for either server.
 *
 * @module
 */

/** A client's departure: {@linkcode Departure.leave} is called when its connection closes. */
export class Departure {
  #controller: AbortController | undefined;
  #reason: unknown;
  #left = false;

  /** True once the client has left. */
  get left(): boolean {
    return this.#left;
  }

  /** A signal that aborts when the client leaves (already aborted if it has). */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#left) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Records that the client left, with `reason`. */
  leave(reason: unknown): void {
    if (this.#left) return;
    this.#left = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}

const DEPARTURES = new WeakMap<Request, Departure>();

/** Records `departure` as `request`'s (the server calls its `leave` when the client goes); returns it. */
export function trackDeparture(request: Request, departure: Departure = new Departure()): Departure {
  DEPARTURES.set(request, departure);
  return departure;
}

/** A signal that aborts when `request`'s client goes away, whichever server it came through. */
export function clientSignal(request: Request): AbortSignal {
  return DEPARTURES.get(request)?.signal ?? request.signal;
}
