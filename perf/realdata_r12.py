#!/usr/bin/python3
"""A twelfth held-out round: eight small real data sets for issue 13's protocol, none of them
among the 108 of perf/realdata.py, perf/realdata_extra.py and perf/realdata_r8.py to
perf/realdata_r11.py; chosen and written by a helper playing a new user, before any run of
occam on them. All eight come from R data sets Debian ships (r-base-core's datasets,
r-cran-lattice, r-cran-nlme, r-cran-modeldata, r-cran-cardata), read through Rscript as
perf/realdata_r11.py reads its sets, and are written the same way (features..., target last;
training rows by the seeded shuffle RandomState(1000 + split), the rest for testing;
OUTDIR/sets.txt), so perf/realdata_table.py runs them unchanged. A factor of two levels is one
column of 0/1 (1 for the level named); a factor of k levels is k - 1 columns of 0/1 (the first
level is none of them); a class label is its level's place, 0, 1, .... Identifiers (an
earthquake's event, a station, a school, a stratum, a city, a zip code) are not inputs.
  attenu    regress   2 features, 182 rows, an earthquake's peak horizontal acceleration at a
                      station (g) from its magnitude and the station's distance from the
                      epicentre (km) (datasets::attenu, Joyner and Boore 1981; heavy-tailed,
                      0.003 to 0.81)
  singer    regress   7 features, 235 rows, a New York Choral Society singer's height
                      (inches) from the voice part (eight, as seven 0/1 columns; the first,
                      Bass 2, is none of them) (lattice::singer)
  sacramento regress  7 features, 932 rows, a Sacramento house's sale price ($, 2008) from
                      beds, baths, square feet, type (multi-family, residential; condo is
                      neither), latitude and longitude (modeldata::Sacramento)
  mathach   regress   4 features, 1000 of 7185 rows (seeded), a US high-school pupil's maths
                      achievement score from minority, female, socio-economic status and the
                      school's mean of it (nlme::MathAchieve, High School and Beyond, 1982)
  infert    classify  6 features, 248 rows, whether a woman is an infertility case (1 of 3
                      rows) from education (6-11 and 12+ years as two 0/1 columns), age,
                      parity, induced and spontaneous abortions (datasets::infert; the
                      matched sets' strata are not inputs)
  chile     classify 11 features, 1000 of the 2431 complete rows (seeded), a Chilean's
                      intended vote in the 1988 plebiscite (abstain, no, undecided, yes) from
                      region (M, N, S, SA; C is none), community population, male, age,
                      education (post-secondary, secondary; primary is neither), income and
                      support for the status quo (carData::Chile)
  cells     classify 56 features, 1000 of 2019 rows (seeded), whether an imaged cell was
                      well segmented from 56 image measurements (modeldata::cells; the
                      package's own train/test column is not an input)
  arrests   classify  7 features, 1000 of 5226 rows (seeded), whether someone arrested in
                      Toronto for possessing marijuana was released with a summons, from
                      white, year, age, male, employed, citizen and the number of police data
                      bases holding their name (carData::Arrests)
Usage: perf/realdata_r12.py OUTDIR [--train 100] [--splits 3] [--sets a,b,...]
Then: perf/realdata_table.py OUTDIR --select --occam build/occam --jobs 2"""
import os, sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import realdata
from realdata import complete, floats, onehot, sample, r_quoted_rows as r_rows  # noqa


def attenu():
    rows = r_rows("attenu", "datasets")
    return floats(rows, ["mag", "dist"]), floats(rows, ["accel"])[:, 0], "regress"


def singer():
    rows = r_rows("singer", "lattice")
    parts = ["Bass 1", "Tenor 2", "Tenor 1", "Alto 2", "Alto 1", "Soprano 2", "Soprano 1"]
    x = np.array([onehot(r, "voice.part", parts) for r in rows])
    return x, floats(rows, ["height"])[:, 0], "regress"


def sacramento():
    rows = r_rows("Sacramento", "modeldata")
    x = np.array([[float(r["beds"]), float(r["baths"]), float(r["sqft"])] +
                  onehot(r, "type", ["Multi_Family", "Residential"]) +
                  [float(r["latitude"]), float(r["longitude"])] for r in rows])
    return x, floats(rows, ["price"])[:, 0], "regress"


def mathach():
    rows = r_rows("MathAchieve", "nlme")
    a = np.array([[float(r["Minority"] == "Yes"), float(r["Sex"] == "Female"), float(r["SES"]),
                   float(r["MEANSES"]), float(r["MathAch"])] for r in rows])
    a = sample(a, 1000)
    return a[:, :-1], a[:, -1], "regress"


def infert():
    rows = r_rows("infert", "datasets")
    x = np.array([onehot(r, "education", ["6-11yrs", "12+ yrs"]) +
                  [float(r[k]) for k in ("age", "parity", "induced", "spontaneous")]
                  for r in rows])
    return x, np.array([int(float(r["case"])) for r in rows]), "classify"


def chile():
    keys = ["region", "population", "sex", "age", "education", "income", "statusquo", "vote"]
    rows = complete(r_rows("Chile", "carData"), keys)
    votes = ["A", "N", "U", "Y"]
    a = np.array([onehot(r, "region", ["M", "N", "S", "SA"]) +
                  [float(r["population"]), float(r["sex"] == "M"), float(r["age"])] +
                  onehot(r, "education", ["PS", "S"]) +
                  [float(r["income"]), float(r["statusquo"]), float(votes.index(r["vote"]))]
                  for r in rows])
    a = sample(a, 1000)
    return a[:, :-1], a[:, -1].astype(int), "classify"


def cells():
    rows = r_rows("cells", "modeldata")
    keys = [k for k in rows[0] if k not in ("case", "class")]
    a = np.array([[float(r[k]) for k in keys] + [float(r["class"] == "WS")] for r in rows])
    a = sample(a, 1000)
    return a[:, :-1], a[:, -1].astype(int), "classify"


def arrests():
    rows = r_rows("Arrests", "carData")
    a = np.array([[float(r["colour"] == "White"), float(r["year"]), float(r["age"]),
                   float(r["sex"] == "Male"), float(r["employed"] == "Yes"),
                   float(r["citizen"] == "Yes"), float(r["checks"]),
                   float(r["released"] == "Yes")] for r in rows])
    a = sample(a, 1000)
    return a[:, :-1], a[:, -1].astype(int), "classify"


SETS = {"attenu": attenu, "singer": singer, "sacramento": sacramento, "mathach": mathach,
        "infert": infert, "chile": chile, "cells": cells, "arrests": arrests}


def main():
    realdata.r_round_main(SETS, ["lattice", "nlme", "modeldata", "carData"])


if __name__ == "__main__":
    main()
