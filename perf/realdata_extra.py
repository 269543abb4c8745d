#!/usr/bin/python3
"""Eight more small real data sets for issue 13's protocol, none of them among the 65 that
perf/realdata.py writes; chosen and written before any run of occam on them. All come from R
packages Debian ships (r-base-core's datasets, r-cran-mass, r-cran-mlbench), read through
Rscript as perf/realdata.py reads its sixth round, and are written the same way (features...,
target last; 100 training rows by the seeded shuffle RandomState(1000 + split), the rest for
testing; OUTDIR/sets.txt), so perf/realdata_table.py runs them unchanged.
  chickweight regress   5 features, 578 rows, a chick's weight (g) from its age in days and
                        its diet (4 diets, one column each); the chick (an identifier) is not
                        an input (datasets::ChickWeight)
  gagurine    regress   1 feature,  314 rows, a child's urinary GAG concentration from its age
                        (MASS::GAGurine; steep at birth, heteroscedastic)
  faithful    regress   1 feature,  272 rows, an Old Faithful eruption's length (min) from the
                        wait before it (min) (datasets::faithful; two clusters)
  gilgais     regress   8 features, 365 rows, the soil's electrical conductivity at 80-90 cm
                        (mS/cm) from pH at three depths, conductivity at two and chloride at
                        three (MASS::gilgais; a survey grid, heavy-tailed inputs)
  vowel       classify  9 features, 990 rows, a spoken British English vowel (11 classes)
                        from 9 log-area-ratio features; the speaker (V1) is not an input
                        (mlbench::Vowel)
  housevotes  classify 32 features, 435 rows, a 1984 US congressman's party from 16 votes,
                        each vote two columns (yea, nay; both 0 for an abstention, which R
                        reads as NA) (mlbench::HouseVotes84)
  biopsy      classify  9 features, 683 of 699 rows, a breast tumour benign or malignant from
                        nine cytology scores 1-10 (Wisconsin, original; MASS::biopsy); the
                        sample ID is not an input, the 16 rows without a bare-nuclei score are
                        dropped
  satellite   classify 36 features, 1000 of 6435 rows (seeded), a Landsat pixel's soil or
                        crop class (6) from the four spectral bands of its 3x3 neighbourhood
                        (mlbench::Satellite)
Usage: perf/realdata_extra.py OUTDIR [--train 100] [--splits 3] [--sets a,b,...]
Then: perf/realdata_table.py OUTDIR --select --occam build/occam --jobs 2"""
import os, sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from realdata import complete, parse_args, r_classes, r_have, r_rows, sample, write_sets  # noqa


def chickweight():
    rows = r_rows("ChickWeight", "datasets")
    x = [[float(r["Time"])] + [float(r["Diet"] == d) for d in "1234"] for r in rows]
    return np.array(x), np.array([float(r["weight"]) for r in rows]), "regress"


def gagurine():
    rows = r_rows("GAGurine", "MASS")
    return (np.array([[float(r["Age"])] for r in rows]),
            np.array([float(r["GAG"]) for r in rows]), "regress")


def faithful():
    rows = r_rows("faithful", "datasets")
    return (np.array([[float(r["waiting"])] for r in rows]),
            np.array([float(r["eruptions"]) for r in rows]), "regress")


def gilgais():
    keys = ["pH00", "pH30", "pH80", "e00", "e30", "c00", "c30", "c80"]
    rows = r_rows("gilgais", "MASS")
    return (np.array([[float(r[k]) for k in keys] for r in rows]),
            np.array([float(r["e80"]) for r in rows]), "regress")


def vowel():
    rows = r_rows("Vowel", "mlbench")
    labels = []
    for r in rows:  # the classes in the order R's factor lists them (they cycle from row 1)
        if r["Class"] not in labels:
            labels.append(r["Class"])
    return r_classes(rows, "Class", [f"V{i}" for i in range(2, 11)], labels)


def housevotes():
    rows = r_rows("HouseVotes84", "mlbench")
    x = [[float(r[f"V{i}"] == v) for i in range(1, 17) for v in ("y", "n")] for r in rows]
    y = [["democrat", "republican"].index(r["Class"]) for r in rows]
    return np.array(x), np.array(y), "classify"


def biopsy():
    keys = [f"V{i}" for i in range(1, 10)]
    rows = complete(r_rows("biopsy", "MASS"), keys)
    return r_classes(rows, "class", keys, ["benign", "malignant"])


def satellite():
    rows = r_rows("Satellite", "mlbench")
    keys = [k for k in rows[0] if k != "classes"]
    order = sorted({r["classes"] for r in rows})
    a = np.array([[float(r[k]) for k in keys] + [order.index(r["classes"])] for r in rows])
    a = sample(a, 1000)
    return a[:, :-1], a[:, -1].astype(int), "classify"


SETS = {"chickweight": chickweight, "gagurine": gagurine, "faithful": faithful,
        "gilgais": gilgais, "vowel": vowel, "housevotes": housevotes, "biopsy": biopsy,
        "satellite": satellite}


def main():
    a, only = parse_args(SETS)
    if not r_have("MASS", "mlbench"):
        sys.exit("needs Rscript with r-cran-mass and r-cran-mlbench")
    os.makedirs(a.outdir, exist_ok=True)
    write_sets(SETS, a.outdir, a.train, a.splits, only)

if __name__ == "__main__":
    main()
