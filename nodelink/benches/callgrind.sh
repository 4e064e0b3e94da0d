#!/usr/bin/env bash
# Instructions per run of each hot path, counted by callgrind (deterministic for a
# given binary, whatever else the machine does), with each group's baseline ratio.
#
# Usage: nodelink/benches/callgrind.sh   (needs valgrind)
set -euo pipefail
cd "$(dirname "$0")/../.."

cargo bench -p nodelink --bench callgrind --no-run 2>&1 | tail -1
bin=$(ls -t target/release/deps/callgrind-* | grep -v '\.d$' | head -1)

count() { # index repetitions -> instructions
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" run "$1" "$2" 2>&1 \
    | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

low=1000
high=11000
echo "| group | path | instructions per run | vs baseline |"
echo "|---|---|---|---|"
"$bin" list | while IFS=$'\t' read -r index group name; do
  a=$(count "$index" "$low")
  b=$(count "$index" "$high")
  per=$(( (b - a) / (high - low) ))
  if [[ "$name" == baseline* ]]; then base=$per; fi
  ratio=$(python3 -c "print(f'{$per / $base:.2f}')")
  echo "| $group | $name | $per | $ratio |"
done
