import type { ReactNode } from 'react';

/** One labelled value; `mono` for identifiers (subjects, ids, URLs). */
export interface Fact {
  label: string;
  value: ReactNode;
  mono?: boolean;
}

/** A panel of labelled values (a description list): profiles, identities, settings. */
export function Facts({ facts }: { facts: Fact[] }) {
  return (
    <dl className="facts facts-wide">
      {facts.map((f) => (
        <div className="fact" key={f.label}>
          <dt>{f.label}</dt>
          <dd className={f.mono ? 'mono' : undefined}>{f.value}</dd>
        </div>
      ))}
    </dl>
  );
}
