/** Small promise helpers shared by the endpoints. */

/** A promise with its resolve and reject at hand. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (err: Error) => void;
}

/** A new {@link Deferred}. */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Counts what a receiver gets and settles once the expectation is met (or exceeded, which is an error). */
export class Tally {
  readonly done = deferred<{ messages: number; bytes: number }>();
  messages = 0;
  bytes = 0;

  constructor(
    readonly wantMessages: number,
    readonly wantBytes: number,
  ) {
    if (wantMessages === 0 && wantBytes === 0) this.done.resolve({ messages: 0, bytes: 0 });
  }

  /** Adds one message of `bytes` blob bytes; true when this completed the expectation. */
  add(messages: number, bytes: number): boolean {
    this.messages += messages;
    this.bytes += bytes;
    const met = this.messages >= this.wantMessages && this.bytes >= this.wantBytes;
    if (!met) return false;
    if (this.messages > this.wantMessages || this.bytes > this.wantBytes) {
      this.done.reject(
        new Error(
          `received ${this.messages} messages / ${this.bytes} bytes; expected ${this.wantMessages} / ${this.wantBytes}`,
        ),
      );
    } else {
      this.done.resolve({ messages: this.messages, bytes: this.bytes });
    }
    return true;
  }
}
