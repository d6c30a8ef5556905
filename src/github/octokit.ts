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
export function makeOctokit(token: string, log: (line: string) => void): Octokit {
  const retryTwice =
    (limit: string) =>
    (after: number, request: { method: string; url: string }, _octokit: unknown, count: number) => {
      log(`GitHub ${limit} on ${request.method} ${request.url}; retrying after ${after}s`);
      return count < 2;
    };
  return github.getOctokit(
    token,
    {
      throttle: {
        onRateLimit: retryTwice('rate limit'),
        onSecondaryRateLimit: retryTwice('secondary rate limit'),
      },
    },
    retry,
    throttling,
  );
}
