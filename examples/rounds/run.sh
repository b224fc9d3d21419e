#!/usr/bin/env bash
# A job of three rounds, offline: build the requests, then for each round validate them,
# have them answered (simulate stands in for the provider: this is where your submitter
# uploads the shards and downloads the results), record the round in the campaign
# ledger, and write the next round from what failed. Then one final table.
#
#   bash examples/rounds/run.sh [WORK_DIR]     (default: a new temporary folder; run
#                                               from anywhere, batchio on PATH)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${1:-$(mktemp -d)}
mkdir -p "$work" && cd "$work"
echo "working in $work"
# A second run starts the job over: what a first run made here goes first.
rm -rf job.ledger job.ledger-wal job.ledger-shm round[1-4] results[1-3] final.parquet

batchio build "$here/../pipeline/questions.csv" --model gpt-4o-mini --max-tokens 200 \
  --template 'Explain {topic} to {audience} in three sentences.' --id-field question_id \
  --out-dir round1 --max-requests 10 --overwrite

for round in 1 2 3; do
  batchio validate "round$round" --quiet
  # Submit round$round/requests-*.jsonl with your provider's SDK; here, simulate answers
  # each shard as its own batch, a fifth of them failing and a tenth expiring.
  batchio simulate "round$round" --out-dir "results$round" --seed $((round * 100)) \
    --fail 0.2 --expire 0.1 --quiet
  batchio campaign record job.ledger --round "$round" --requests "round$round" \
    --results "results$round" --batch "results$round"
  if [ "$round" -lt 3 ]; then
    batchio campaign retry job.ledger --out-dir "round$((round + 1))" --overwrite
    [ -e "round$((round + 1))/requests-00001.jsonl" ] || break   # nothing left to retry
  fi
done

batchio campaign status job.ledger
batchio campaign final job.ledger -o final.parquet
