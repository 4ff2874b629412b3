import type { RunningBridgekeeper } from './bridgekeeper';

/** The Prometheus text of `/metrics`. */
export async function scrape(bk: RunningBridgekeeper): Promise<string> {
  const res = await bk.get('/metrics');
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return res.text();
}

/** Sum of a metric's samples whose labels include every given `k="v"` pair (0 when there is none). */
export function sumSamples(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) {
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return sum;
}

/** `sumSamples` over a fresh scrape. */
export async function counter(
  bk: RunningBridgekeeper,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  return sumSamples(await scrape(bk), name, labels);
}
