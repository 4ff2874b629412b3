import { pathSegments } from 'src/console/console-files';

describe('pathSegments (what of a /console URL may reach the disk)', () => {
  it.each([
    ['/console', []],
    ['/console/', []],
    ['/console/actors/123?x=1#y', ['actors', '123']],
    ['/console//assets/app-1.js', ['assets', 'app-1.js']],
    ['/console/caf%C3%A9', ['café']],
  ])('%s → %j', (url, expected) => {
    expect(pathSegments(url)).toEqual(expected);
  });

  it.each([
    '/consolex',
    '/other',
    '/console/..',
    '/console/.',
    '/console/%2e%2e/x',
    '/console/%2E',
    '/console/.env',
    '/console/a%2fb',
    '/console/a%5Cb',
    '/console/a%00b',
    '/console/C:',
    '/console/%E0%A4%A',
    `/console/${'a'.repeat(256)}`,
    `/console${'/a'.repeat(33)}`,
  ])('refuses %s', (url) => {
    expect(pathSegments(url)).toBeUndefined();
  });
});
