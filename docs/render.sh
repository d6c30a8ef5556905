#!/usr/bin/env bash
# Re-makes the README's pictures from real bodies: runs the demo with --dump, keeps the tracking
# issue's and the final comment's Markdown here, renders them with render-github (cmark-gfm and a
# GitHub-like sanitizer) and screenshots the result at the content's width (1012 px, no margins).
#   docs/render.sh [path/to/render-github]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
render=${1:-$here/../../shared/tools/render-github}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$here/.." && npm run --silent demo -- --dump "$tmp/bodies" >/dev/null)
cp "$tmp/bodies/issue-planned.md" "$here/tracking-issue.md"
# The final comment: the one that reports the completed plan.
cp "$(grep -l '^### Reboot Pilot: plan .* completed' "$tmp"/bodies/comment-*.md | head -1)" "$here/final-comment.md"
shot() { # html png height
  local prof; prof=$(mktemp -d)
  chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --user-data-dir="$prof" --hide-scrollbars \
    --window-size=1012,"$3" --screenshot="$2" "file://$1" >/dev/null 2>&1
  rm -rf "$prof"
}
for name in tracking-issue:1085 final-comment:650; do
  "$render" "$here/${name%%:*}.md" "$tmp/${name%%:*}.png" 100 >/dev/null
  shot "$tmp/${name%%:*}.html" "$here/${name%%:*}.png" "${name##*:}"
done
echo "docs/tracking-issue.png and docs/final-comment.png re-made (check their height: the plan may grow)"
