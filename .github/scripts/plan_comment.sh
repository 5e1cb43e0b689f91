#!/usr/bin/env bash
# Plan a pull request's specs/config and keep ONE sticky comment on it up to date.
#
# Runs `reconcile plan --format markdown --detailed-exitcode --out plan.json > plan.md` against
#   * a sandbox lake built here (default: no secrets needed, safe for pull requests from forks), or
#   * the profile named in PLAN_PROFILE of PLAN_CONFIG (a real lake; the job needs its credentials),
# then creates or updates the comment that carries the hidden marker, writes the whole plan to
# the job summary, and leaves plan.json for the artifact upload.
#
# Exit codes of `reconcile plan --detailed-exitcode`: 0 no changes, 2 changes (both success),
# 1 an error or a coverage gate below error_below. This script exits 0 on 0 and 2; on 1 it still
# comments (when a plan was written) and exits 1, except that a gate breach of the synthetic
# sandbox (which has gaps on purpose) only warns unless PLAN_FAIL_ON_GATE=true.
#
# Environment:
#   PR_NUMBER, GITHUB_REPOSITORY   where to comment (no comment without them)
#   GITHUB_STEP_SUMMARY, GITHUB_OUTPUT, GITHUB_SERVER_URL, GITHUB_RUN_ID   set by Actions
#   PLAN_OUT       output directory (default plan-out): plan.md, plan.json, comment.md, sandbox/
#   PLAN_PROFILE   plan this profile of PLAN_CONFIG (default config.yaml); empty: a sandbox
#   PLAN_SEASONS   seasons (default 2010-2026); PLAN_SCALE, PLAN_SEED: the sandbox (0.01, 7)
#   PLAN_FAIL_ON_GATE   true/false (default: true with a profile, false with the sandbox)
#   RECONCILE      the command (default: reconcile); GH: the GitHub CLI (default: gh)
#   COMMENT_AUTHOR only comments by this login are updated (default github-actions[bot])
set -euo pipefail

MARKER='<!-- cbbd-reconciler:plan'
LIMIT=65536
out=${PLAN_OUT:-plan-out}
seasons=${PLAN_SEASONS:-2010-2026}
read -r -a reconcile <<< "${RECONCILE:-reconcile}"
read -r -a gh <<< "${GH:-gh}"
py=${PYTHON:-python3}
author=${COMMENT_AUTHOR-github-actions[bot]}

mkdir -p "$out"
rm -f "$out/plan.md" "$out/plan.json" "$out/plan.err" "$out/comment.md" "$out/payload.json"

if [[ -n "${PLAN_PROFILE:-}" ]]; then
  config=${PLAN_CONFIG:-config.yaml}
  profile_args=(--profile "$PLAN_PROFILE")
  where="profile \`$PLAN_PROFILE\` of \`$config\`"
  fail_on_gate=${PLAN_FAIL_ON_GATE:-true}
else
  rm -rf "$out/sandbox"
  "${reconcile[@]}" sandbox init "$out/sandbox" --seasons "$seasons" \
    --scale "${PLAN_SCALE:-0.01}" --seed "${PLAN_SEED:-7}" > "$out/sandbox.log"
  config="$out/sandbox/config.yaml"
  profile_args=()
  where="a synthetic sandbox lake (scale ${PLAN_SCALE:-0.01}, with deliberate gaps) using this branch's specs"
  fail_on_gate=${PLAN_FAIL_ON_GATE:-false}
fi

rc=0
"${reconcile[@]}" plan --config "$config" "${profile_args[@]}" --seasons "$seasons" \
  --format markdown --detailed-exitcode --out "$out/plan.json" > "$out/plan.md" 2> "$out/plan.err" || rc=$?
cat "$out/plan.err" >&2

have_plan=false
if [[ -s "$out/plan.md" && -s "$out/plan.json" ]]; then have_plan=true; fi
case "$rc" in
  0) outcome="no-changes" ;;
  2) outcome="changes" ;;
  1) if $have_plan; then outcome="gate"; else outcome="error"; fi ;;
  *) outcome="error" ;;
esac
echo "reconcile plan exited $rc ($outcome); planned against $where"

run_url=""
if [[ -n "${GITHUB_RUN_ID:-}" && -n "${GITHUB_REPOSITORY:-}" ]]; then
  run_url="${GITHUB_SERVER_URL:-https://github.com}/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID"
fi

# The comment: the plan as rendered (within the limit), plus a footer only if it still fits.
if $have_plan; then
  footer=$'\n'"<sub>Planned against $where."
  [[ -n "$run_url" ]] && footer+=" Full plan: the job summary and the \`reconcile-plan\` artifact of [this run]($run_url)."
  footer+="</sub>"$'\n'
  "$py" - "$out/plan.md" "$out/comment.md" "$footer" "$LIMIT" <<'PY'
import sys
plan, dest, footer, limit = open(sys.argv[1], encoding="utf-8").read(), sys.argv[2], sys.argv[3], int(sys.argv[4])
width = lambda s: len(s.encode("utf-16-le")) // 2
body = plan + footer if width(plan + footer) <= limit else plan
open(dest, "w", encoding="utf-8").write(body)
PY
else
  {
    echo "**reconcile plan failed** (exit code $rc) against $where."
    echo
    echo '```'
    tail -n 20 "$out/plan.err" | cut -c1-300
    echo '```'
    [[ -n "$run_url" ]] && echo "See [the run]($run_url)."
    echo
    echo "$MARKER id=none fingerprint=none -->"
  } > "$out/comment.md"
fi

if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
  if $have_plan; then
    # The whole plan: the same rendering, with GitHub's step-summary room instead of a comment's.
    "${reconcile[@]}" show "$out/plan.json" --format markdown --max-chars 900000 >> "$GITHUB_STEP_SUMMARY"
  else
    cat "$out/comment.md" >> "$GITHUB_STEP_SUMMARY"
  fi
fi

comment_id=""
if [[ -n "${PR_NUMBER:-}" && -n "${GITHUB_REPOSITORY:-}" ]]; then
  comments="$out/comments.json"
  "${gh[@]}" api --paginate "repos/$GITHUB_REPOSITORY/issues/$PR_NUMBER/comments" > "$comments"
  # --paginate prints one JSON array per page, back to back: decode them one after another.
  comment_id=$("$py" - "$comments" "$MARKER" "$author" <<'PY'
import json, sys
text, marker, author = open(sys.argv[1], encoding="utf-8").read(), sys.argv[2], sys.argv[3]
dec, pos, found = json.JSONDecoder(), 0, []
while pos < len(text):
    while pos < len(text) and text[pos].isspace():
        pos += 1
    if pos >= len(text):
        break
    page, pos = dec.raw_decode(text, pos)
    found += [c for c in page if marker in (c.get("body") or "")
              and (not author or (c.get("user") or {}).get("login") == author)]
print(found[0]["id"] if found else "")
PY
)
  "$py" -c 'import json, sys; json.dump({"body": open(sys.argv[1], encoding="utf-8").read()}, open(sys.argv[2], "w"))' \
    "$out/comment.md" "$out/payload.json"
  if [[ -n "$comment_id" ]]; then
    api=(api --method PATCH "repos/$GITHUB_REPOSITORY/issues/comments/$comment_id" --input "$out/payload.json")
  else
    api=(api --method POST "repos/$GITHUB_REPOSITORY/issues/$PR_NUMBER/comments" --input "$out/payload.json")
  fi
  if response=$("${gh[@]}" "${api[@]}"); then
    comment_id=$("$py" -c 'import json, sys; print(json.loads(sys.argv[1])["id"])' "$response")
    echo "sticky comment $comment_id $([[ ${api[2]} == PATCH ]] && echo updated || echo created)"
  else
    # A pull request from a fork gets a read-only token: the plan is still in the job summary.
    echo "::warning::could not write the pull-request comment; the plan is in the job summary"
  fi
else
  echo "PR_NUMBER or GITHUB_REPOSITORY not set: no comment"
fi

if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
  {
    echo "exitcode=$rc"
    echo "outcome=$outcome"
    if $have_plan; then
      echo "changes=$("$py" -c 'import json, sys; s = json.load(open(sys.argv[1]))["summary"]; print(str(any(
        v for k, v in s.items() if k in ("fetch", "refetch", "rebuild", "register", "relayout", "dedupe", "delete")
      )).lower())' "$out/plan.json")"
    fi
    echo "comment_id=$comment_id"
  } >> "$GITHUB_OUTPUT"
fi

case "$outcome" in
  no-changes | changes) exit 0 ;;
  gate)
    if [[ "$fail_on_gate" == true ]]; then
      echo "::error::a coverage gate is below error_below (see the plan)"
      exit 1
    fi
    echo "::warning::a coverage gate is below error_below in the sandbox (its gaps are deliberate)"
    exit 0
    ;;
  *)
    echo "::error::reconcile plan failed with exit code $rc"
    exit 1
    ;;
esac
