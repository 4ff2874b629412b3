/** Stops what the global setup started. */
export default async function globalTeardown(): Promise<void> {
  await globalThis.__BK_TEST_POSTGRES__?.stop();
  globalThis.__BK_TEST_POSTGRES__ = undefined;
}
