#!/usr/bin/python3
"""Totals of perf/realdata_table.py's acceptance counts over several rounds.

Usage: perf/realdata_sum.py ROUND1.json ROUND2.json ...   (each from realdata_table.py --json)
Prints, over every set of the files, how many regression sets the default noisy net is within 5%
of the best decay in hindsight on and how many classification sets within 2 points, beside the
same counts for each decay of the grid fixed in advance for every set: the reference that says
how hard "the best of six in hindsight" is to meet without a validation set."""
import json, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from realdata_table import fixed_decays  # noqa: E402

if len(sys.argv) < 2:
    sys.exit(__doc__.split("\n\n")[1])
recs = [r for path in sys.argv[1:] for r in json.load(open(path))]
print(fixed_decays(recs))
