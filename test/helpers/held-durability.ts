/**
 * A sync store whose `durable()` answers only once the test releases it: what the sync does
 * between its commits and the disk's confirmation can then be looked at.
 */
export function holdingDurability<S extends { durable(): Promise<void> }>(
  store: S,
): { readonly store: S; readonly release: () => void; readonly asked: () => number } {
  let release = (): void => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  let asked = 0;
  return {
    store: {
      ...store,
      async durable() {
        asked += 1;
        await released;
        return store.durable();
      },
    },
    release: () => release(),
    asked: () => asked,
  };
}
