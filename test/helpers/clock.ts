// A clock a test moves by hand: handed to the code under test as its `now`, it replaces waiting for real
// time to pass (sweep grace periods, leases, retry times) and makes every written time known in advance.
export interface TestClock {
  now: () => Date;
  /** Moves the clock forward by `ms`; answers the new time. */
  advance(ms: number): Date;
}

export function testClock(start = new Date()): TestClock {
  let at = start.getTime();
  return {
    now: () => new Date(at),
    advance(ms) {
      at += ms;
      return new Date(at);
    },
  };
}
