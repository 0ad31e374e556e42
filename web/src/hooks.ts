import { useCallback, useEffect, useState } from 'react';
import { App } from 'antd';

/** Loads data when `deps` change; `reload()` fetches again. Errors are shown as a message. */
export function useLoad<T>(fn: () => Promise<T>, deps: unknown[]): { data: T | undefined; loading: boolean; reload: () => void } {
  const [data, setData] = useState<T | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const { message } = App.useApp();
  useEffect(() => {
    let live = true;
    setLoading(true);
    fn().then(
      (d) => live && setData(d),
      (err: Error) => live && message.error(err.message),
    ).finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  return { data, loading, reload: useCallback(() => setTick((n) => n + 1), []) };
}

/** Runs an action, shows its error (or a success text) and returns its result. */
export function useAction(): <T>(run: () => Promise<T>, success?: string) => Promise<T | undefined> {
  const { message } = App.useApp();
  return async (run, success) => {
    try {
      const r = await run();
      if (success) message.success(success);
      return r;
    } catch (err) {
      message.error((err as Error).message);
      return undefined;
    }
  };
}
