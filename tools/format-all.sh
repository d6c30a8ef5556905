#!/usr/bin/env bash
# One-time reformat of the whole tree with the pinned Prettier (.prettierrc.json), run by the lead
# on the merged tree once the parallel branches are in: formatting first would conflict with all of
# them. Only Prettier rewrites files (layout, never behaviour); lint problems are listed, not fixed,
# because some of eslint --fix's rewrites need a human (see the report of issue 13).
#   bash tools/format-all.sh            reformat, re-bundle, check, print the lint summary
#   bash tools/format-all.sh --commit   ... and commit the result, recording it for git blame
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
log() { printf '[format-all %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

commit=false
[ "${1:-}" = --commit ] && commit=true
if $commit && [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  echo "format-all: the work tree has changes; commit or stash them first (the reformat gets a commit of its own)" >&2
  exit 1
fi

log "prettier --write (src, test, tools)"
npm run --silent format >/dev/null
log "$(git diff --shortstat -- src test tools)"
npm run --silent format:check

log "typecheck"
npm run --silent typecheck
# The bundle is minified, so layout changes should leave it as it was; re-bundle anyway so a
# difference (a comment that moved a license header, say) cannot fail check-bundle later.
log "bundle"
npm run --silent bundle >/dev/null
npm run --silent check-bundle

log "lint (not fixed here; the summary is by rule)"
if npm run --silent lint -- --format json --output-file /tmp/format-all-lint.json; then
  log "lint: clean"
else
  node -e '
    const r = JSON.parse(require("fs").readFileSync("/tmp/format-all-lint.json", "utf8"));
    const byRule = {};
    for (const f of r) for (const m of f.messages) byRule[m.ruleId ?? "(parse)"] = (byRule[m.ruleId ?? "(parse)"] ?? 0) + 1;
    const total = Object.values(byRule).reduce((a, b) => a + b, 0);
    console.log(`lint: ${total} problems in ${r.filter((f) => f.messages.length).length} files`);
    for (const [rule, n] of Object.entries(byRule).sort((a, b) => b[1] - a[1])) console.log(String(n).padStart(6), rule);
  '
fi

if $commit; then
  git add -A src test tools action action.yml
  git commit -q -m "Format the tree with Prettier $(prettier --version) (print width 110); layout only"
  rev=$(git rev-parse HEAD)
  printf '# Prettier reformat of the whole tree (tools/format-all.sh)\n%s\n' "$rev" >> .git-blame-ignore-revs
  git add .git-blame-ignore-revs
  git commit -q -m "git blame skips the Prettier reformat ($rev)"
  log "committed $rev; .git-blame-ignore-revs lists it (git config blame.ignoreRevsFile .git-blame-ignore-revs)"
fi
log "next: add format:check and lint to npm test once lint is clean"
