import { formatGroups, summarizeProfile } from './lib/profile';

// node -r @swc-node/register bench/profile-groups.ts <file.cpuprofile>=<label> …
// Self time by group (Node + V8, Fastify, NestJS, Apollo, pino, metrics, Bridgekeeper code…) side by
// side, e.g. a scenario next to the bare framework route of the same run.
const profiles = process.argv.slice(2).map((arg) => {
  const i = arg.lastIndexOf('=');
  const [file, label] = i > 0 ? [arg.slice(0, i), arg.slice(i + 1)] : [arg, arg];
  return { label, summary: summarizeProfile(file) };
});
console.log(formatGroups(profiles));
