// Octokit with the retry and throttling plugins: GitHub's rate limits are waited out, not failed.
import * as github from '@actions/github';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';

export type Octokit = ReturnType<typeof github.getOctokit>;

export interface Repo {
  owner: string;
  repo: string;
}

/** Primary and secondary rate limits are retried twice after GitHub's suggested wait. */
export function makeOctokit(token: string, log: (l: string) => void): Octokit {
  return github.getOctokit(
    token,
    {
      throttle: {
        onRateLimit: (after: number, o: { method: string; url: string }, _k: unknown, count: number) => {
          log(`GitHub rate limit on ${o.method} ${o.url}; retrying after ${after}s`);
          return count < 2;
        },
        onSecondaryRateLimit: (
          after: number,
          o: { method: string; url: string },
          _k: unknown,
          count: number,
        ) => {
          log(`GitHub secondary rate limit on ${o.method} ${o.url}; retrying after ${after}s`);
          return count < 2;
        },
      },
    },
    retry,
    throttling,
  );
}
