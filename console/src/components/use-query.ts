import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, gql, onRetry } from '../api/client';
import type { Operation } from '../api/generated';

export interface QueryState<R> {
  data: R | undefined;
  error: unknown;
  loading: boolean;
  /** Loads again (the retry buttons), keeping the data shown meanwhile. */
  reload: () => void;
}

/**
 * Runs a query when the component shows and whenever its variables change. Data already shown stays
 * while a reload runs or fails; a 503 then is no error of the page (the read-only banner shows it).
 */
export function useQuery<R, V>(op: Operation<R, V>, variables?: V): QueryState<R> {
  const [data, setData] = useState<R>();
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(true);
  const [generation, setGeneration] = useState(0);
  const key = JSON.stringify(variables ?? {});
  const latest = useRef(0);
  const shown = useRef(false);

  useEffect(() => {
    const run = ++latest.current;
    setLoading(true);
    gql(op, JSON.parse(key) as V).then(
      (result) => {
        if (run !== latest.current) return;
        setData(result);
        shown.current = true;
        setError(undefined);
        setLoading(false);
      },
      (err: unknown) => {
        if (run !== latest.current) return;
        // A 503 while data is shown: the shell's read-only banner says it once, the data stays.
        if (!(err instanceof ApiError && err.unavailable && shown.current)) setError(err);
        setLoading(false);
      },
    );
  }, [op, key, generation]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  useEffect(() => onRetry(reload), [reload]);
  return { data, error, loading, reload };
}
