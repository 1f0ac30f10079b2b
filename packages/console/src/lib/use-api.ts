import { useCallback, useEffect, useRef, useState } from 'react';
import { api, type ApiError } from './api';

export interface Loaded<T> {
  readonly data: T | undefined;
  readonly error: ApiError | Error | undefined;
  /** True while the first answer (or the answer to changed inputs) is awaited. */
  readonly loading: boolean;
  /** Fetch again, keeping the current data on screen meanwhile. */
  reload(): void;
}

/**
 * A GET that follows its path: it refetches when the path changes and ignores answers to paths it no
 * longer shows. Pass null to fetch nothing (yet).
 */
export function useApi<T>(path: string | null, options: { keepPrevious?: boolean } = {}): Loaded<T> {
  const [state, setState] = useState<{ path: string | null; data?: T; error?: ApiError | Error; loading: boolean }>({ path, loading: path !== null });
  const [version, setVersion] = useState(0);
  const reload = useCallback(() => setVersion((v) => v + 1), []);
  const current = useRef(path);
  current.current = path;
  const keepPrevious = options.keepPrevious === true;

  useEffect(() => {
    if (path === null) {
      setState({ path, loading: false });
      return;
    }
    const controller = new AbortController();
    setState((previous) => (previous.path === path ? { ...previous, loading: true } : { path, data: keepPrevious ? previous.data : undefined, loading: true }));
    api.get<T>(path, { signal: controller.signal }).then(
      (data) => {
        if (current.current === path) setState({ path, data, loading: false });
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        if (current.current === path) setState({ path, error: error instanceof Error ? error : new Error(String(error)), loading: false });
      },
    );
    return () => controller.abort();
  }, [path, version, keepPrevious]);

  const fresh = state.path === path;
  // keepPrevious: a list being filtered keeps its rows on screen (marked busy) until the new ones come.
  return {
    data: fresh || keepPrevious ? state.data : undefined,
    error: fresh ? state.error : undefined,
    loading: fresh ? state.loading : path !== null,
    reload,
  };
}
