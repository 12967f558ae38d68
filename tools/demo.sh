#!/bin/sh
# `make demo`: a synthetic recording with planted sinks, then `attnlab sinks` with its figures.
set -eu
BUILD=${1:-build}
A="$BUILD/attnlab"
mkdir -p out/demo
"$A" synth maps -o out/demo/synthetic.h5 --samples 4 --layers 6 --heads 8 --tokens 256 --seed 1 --quiet
"$A" info out/demo/synthetic.h5 --format table
"$A" sinks out/demo/synthetic.h5 -o out/demo --quiet
"$A" sinks out/demo/synthetic.h5 --format table --positions 4 | head -12
echo
echo "attnlab demo: tables and figures are in out/demo/ (open out/demo/sinks_alpha0.png, sinks_rate.png, sinks_by_layer.png)"
