#!/usr/bin/env bash
# Writes kwok stages with start latencies like a real cluster's, for `make bench`'s latency
# profile: every pod but a Job's is Ready POD_MS after the node has it; a Job's pod runs at
# once and completes JOB_MS later. Built from the fast stages `make tools` installs.
# Usage: stages.sh SRC POD_MS JOB_MS > stages.yaml
set -euo pipefail
src=${1:?source stages}; pod_ms=${2:?pod ready delay in ms}; job_ms=${3:?job delay in ms}
awk -v pod_ms="$pod_ms" -v job_ms="$job_ms" '
  function emit(doc, name, owner, ms,    n, lines, i, out) {
    n = split(doc, lines, "\n"); out = ""
    for (i = 1; i <= n; i++) {
      if (lines[i] == "") continue
      if (name != "" && lines[i] ~ /^  name: /) { out = out "  name: " name "\n"; continue }
      out = out lines[i] "\n"
      if (lines[i] == "spec:" && ms > 0) out = out "  delay:\n    durationMilliseconds: " ms "\n"
      if (owner != "" && lines[i] == "    matchExpressions:")
        out = out "    - key: '\''.metadata.ownerReferences.[].kind'\''\n      operator: '\''" owner "'\''\n      values:\n      - '\''Job'\''\n"
    }
    printf "---\n%s", out
  }
  function flush() {
    if (doc ~ /\n  name: pod-ready\n/) {
      emit(doc, "", "NotIn", pod_ms)          # Deployments and StatefulSets: ready after POD_MS
      emit(doc, "pod-ready-job", "In", 0)     # a Job pod starts running at once
    } else if (doc ~ /\n  name: pod-complete\n/) {
      emit(doc, "", "", job_ms)               # and completes JOB_MS later
    } else if (doc != "") {
      emit(doc, "", "", 0)
    }
    doc = ""
  }
  /^---$/ { flush(); next }
  { doc = doc "\n" $0 }
  END { flush() }
' "$src"
