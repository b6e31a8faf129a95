#!/usr/bin/env bash
# The main job on the embedded default, from a fresh clone:
# set up .venv → local Label Studio → clean the sample → project → push → two annotators
# annotate through the API (samples/annotations.yaml) → pull a dataset version → load it.
# Safe to run again: nothing is duplicated and an unchanged pull writes no new version.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh studio,agreement
export PATH="$PWD/.venv/bin:$PATH"
export TOOLKIT_STUDIO_DIR="${TOOLKIT_STUDIO_DIR:-$PWD/.toolkit/studio}"
export HF_DATASETS_OFFLINE=1 HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1
unset LABEL_STUDIO_URL LABEL_STUDIO_API_KEY  # the demo always uses the local studio
mkdir -p .toolkit/demo

set -x
toolkit studio up
toolkit clean samples/articles -o .toolkit/demo/articles.parquet \
  --rejects .toolkit/demo/rejects.jsonl --report .toolkit/demo/report.json
toolkit project create "News demo"
toolkit push .toolkit/demo/articles.parquet --project "News demo" --predict samples/gazetteer.yaml
toolkit samples annotate samples/annotations.yaml --project "News demo"
toolkit pull --project "News demo" --dataset news-demo --exports-dir exports
toolkit dataset verify news-demo --exports-dir exports
set +x

version=$(ls exports/news-demo | grep -E '^[0-9]+\.[0-9]+\.[0-9]+$' | sort -V | tail -n 1)
echo
echo "Load it:  python -c 'import datasets; print(datasets.load_dataset(\"exports/news-demo/$version\"))'"
python -c "import datasets; print(datasets.load_dataset('exports/news-demo/$version'))"
toolkit studio status
