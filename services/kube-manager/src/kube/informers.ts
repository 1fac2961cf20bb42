// List-watch informers of @kubernetes/client-node: list, then watch from the list's
// resourceVersion; BOOKMARK events move that resourceVersion on while nothing changes, so a
// re-watch after a dropped connection starts where it was; a watch answered with 410 Gone lists
// again. client-node's ListWatch follows bookmarks but does not ask for them, hence the Watch
// here that adds allowWatchBookmarks; and it stops on any other error, hence the restart.
import { KubeConfig, type KubernetesObject, ListWatch, Watch } from '@kubernetes/client-node';
import type { Logger } from '@weft/kit';

class BookmarkWatch extends Watch {
  override watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    return super.watch(path, { ...queryParams, allowWatchBookmarks: true }, callback, done);
  }
}

/** The API at `url` without credentials (the stand-in, a kubectl proxy); empty: in-cluster or KUBECONFIG. */
export function kubeConfigFor(url: string): KubeConfig {
  const config = new KubeConfig();
  if (url === '') {
    config.loadFromDefault();
    return config;
  }
  config.loadFromOptions({
    // client-node refuses plain http unless TLS checks are off, though there is no TLS to check.
    clusters: [{ name: 'kube', server: url, skipTLSVerify: url.startsWith('http:') }],
    users: [{ name: 'weft-kube-manager' }],
    contexts: [{ name: 'kube', cluster: 'kube', user: 'weft-kube-manager' }],
    currentContext: 'kube',
  });
  return config;
}

export interface Informer<T extends KubernetesObject> {
  cache: ListWatch<T>;
  /** Resolves once the first list is in the cache. */
  synced: Promise<void>;
  stop(): void;
}

export function startInformer<T extends KubernetesObject>(
  config: KubeConfig,
  path: string,
  list: () => Promise<{ metadata?: { resourceVersion?: string }; items: T[] }>,
  logger: Logger,
): Informer<T> {
  let listed = false;
  let stopped = false;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  let resolveSynced: () => void;
  const synced = new Promise<void>((resolve) => {
    resolveSynced = resolve;
  });
  const cache = new ListWatch<T>(
    path,
    new BookmarkWatch(config),
    async () => {
      const answer = await list();
      failures = 0;
      return answer as never;
    },
    false,
  );
  const run = () => {
    timer = undefined;
    if (stopped) return;
    cache
      .start()
      .then(() => {
        // start() returns after the list (when one was needed) and once the watch is open.
        if (!listed && cache.latestResourceVersion() !== '') {
          listed = true;
          resolveSynced();
        }
        if (!listed && !timer) retry();
      })
      .catch((error) => {
        logger.warn({ err: error, path }, 'list-watch failed; retrying');
        retry();
      });
  };
  const retry = () => {
    if (stopped || timer) return;
    failures++;
    timer = setTimeout(run, Math.min(200 * 2 ** Math.min(failures, 8), 30_000));
  };
  cache.on('error', (error) => {
    logger.warn({ err: error, path }, 'watch ended with an error; watching again');
    retry();
  });
  run();
  return {
    cache,
    synced,
    stop() {
      stopped = true;
      clearTimeout(timer);
      void cache.stop();
    },
  };
}
