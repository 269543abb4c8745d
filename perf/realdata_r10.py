#!/usr/bin/python3
"""A tenth held-out round: nine small real data sets for issue 13's protocol, none of them
among the 93 that perf/realdata.py, perf/realdata_extra.py, perf/realdata_r8.py and
perf/realdata_r9.py write; chosen and written by a helper playing a new user, before any run
of this table on them (it had trained the noisy default by hand on cats and airquality, as a
user would, with a holdout of its own). Eight come from R (r-cran-mass, r-cran-cardata,
r-cran-mlbench, r-cran-hsaur3, and airquality from r-base-core), read through Rscript as
perf/realdata.py reads its sixth round, and one from python3-sklearn, which ships linnerud as
plain files (read here with the csv module, no scikit-learn import). They are written the
same way (features..., target last; training rows by the seeded shuffle RandomState(1000 +
split), the rest for testing; OUTDIR/sets.txt), so perf/realdata_table.py runs them
unchanged; the training rows are 100, or fewer where the helper kept fewer for a small set
(cats 94, airq 60, prestige 50, linnweight 14; fewer still with a smaller --train). A factor
of two levels is one column of 0/1 (1 for the level named), of k levels k - 1 columns (the
first level none of them).
  cats      classify  2 features, 144 rows (94 for training), a cat's sex (47 female, 97
                      male) from its body weight (kg) and heart weight (g); the rows in the
                      order R's set.seed(1); sample(144) puts them, as the helper shuffled
                      the table, which the package sorts by sex (MASS::cats)
  airq      regress   5 features, 111 of 153 days (60 for training), New York's mean ozone
                      (ppb, 1973) from solar radiation, wind, temperature, month and day of
                      the month; the 42 days with a missing reading are dropped
                      (datasets::airquality)
  slid      regress   5 features, 800 of 3987 rows (seeded), an Ontario worker's hourly wage
                      ($, 1994) from education (years), age, sex and language (English,
                      French, other); the 3438 rows with a missing value are dropped
                      (carData::SLID)
  forbes    regress   3 features, 600 of 1995 rows (seeded), a Forbes 2000 company's profits
                      (billion $, 2004) from its sales, assets and market value; rank, name,
                      country and category are not inputs, the 5 rows without profits are
                      dropped (HSAUR3::Forbes2000; heavy-tailed, losses negative)
  prestige  regress   3 features, 102 rows (50 for training), a Canadian occupation's
                      Pineo-Porter prestige score (1971) from its incumbents' mean education
                      (years), mean income ($) and share of women (%); census code and type
                      are not inputs (carData::Prestige)
  letters   classify 16 features, 1000 of 20000 rows (seeded), a capital letter (26 classes,
                      about 4 a class in 100 training rows) from 16 integer statistics of its
                      black-and-white image (mlbench::LetterRecognition)
  wells     classify  4 features, 1000 of 3020 rows (seeded), whether a Bangladeshi household
                      switched from an unsafe well from its arsenic level, the distance to
                      the nearest safe well (m), the head's education (years) and membership
                      of a community association (carData::Wells)
  synth     classify  2 features, 1250 rows, Ripley's synthetic two-class problem, the
                      package's training (250) and test (1000) sets together (MASS::synth.tr,
                      MASS::synth.te)
  linnweight regress  3 features, 20 rows (14 for training, 6 for testing), a middle-aged
                      man's weight (lb) from chin-ups, sit-ups and jumps (Linnerud's
                      exercise data, sklearn's linnerud_exercise.csv and
                      linnerud_physiological.csv); 6 test rows make its figures noisy
Usage: perf/realdata_r10.py OUTDIR [--train 100] [--splits 3] [--sets a,b,...]
Then: perf/realdata_table.py OUTDIR --select --occam build/occam --jobs 2"""
import csv, os, subprocess, sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import realdata
from realdata import RSCRIPT, complete, floats, parse_args, r_have, sample, write_rows  # noqa
from realdata import r_quoted_rows as r_rows  # noqa


LINNERUD = os.path.join(realdata.D, "linnerud_{}.csv")

# The training rows of the sets the helper gave fewer than 100 (at most --train).
TRAIN = {"cats": 94, "airq": 60, "prestige": 50, "linnweight": 14}


def cats():
    rows = r_rows("cats", "MASS")
    order = subprocess.run([RSCRIPT, "--vanilla", "-e",
                            f"set.seed(1); cat(sample({len(rows)}), sep = ' ')"],
                           check=True, capture_output=True, text=True).stdout.split()
    rows = [rows[int(i) - 1] for i in order]
    return (floats(rows, ["Bwt", "Hwt"]), np.array([int(r["Sex"] == "M") for r in rows]),
            "classify")


def airq():
    keys = ["Solar.R", "Wind", "Temp", "Month", "Day"]
    rows = complete(r_rows("airquality", "datasets"), keys + ["Ozone"])
    return floats(rows, keys), floats(rows, ["Ozone"])[:, 0], "regress"


def slid():
    rows = r_rows("SLID", "carData")
    rows = complete(rows, list(rows[0]))
    a = np.array([[float(r["education"]), float(r["age"]), float(r["sex"] == "Male"),
                   float(r["language"] == "French"), float(r["language"] == "Other"),
                   float(r["wages"])] for r in rows])
    a = sample(a, 800)
    return a[:, :-1], a[:, -1], "regress"


def forbes():
    keys = ["sales", "assets", "marketvalue"]
    rows = complete(r_rows("Forbes2000", "HSAUR3"), keys + ["profits"])
    a = sample(floats(rows, keys + ["profits"]), 600)
    return a[:, :-1], a[:, -1], "regress"


def prestige():
    rows = r_rows("Prestige", "carData")
    return (floats(rows, ["education", "income", "women"]), floats(rows, ["prestige"])[:, 0],
            "regress")


def letters():
    rows = r_rows("LetterRecognition", "mlbench")
    keys = [k for k in rows[0] if k != "lettr"]
    a = sample(np.array([[float(r[k]) for k in keys] + [ord(r["lettr"]) - ord("A")]
                         for r in rows]), 1000)
    return a[:, :-1], a[:, -1].astype(int), "classify"


def wells():
    a = np.array([[float(r["arsenic"]), float(r["distance"]), float(r["education"]),
                   float(r["association"] == "yes"), ["no", "yes"].index(r["switch"])]
                  for r in r_rows("Wells", "carData")])
    a = sample(a, 1000)
    return a[:, :-1], a[:, -1].astype(int), "classify"


def synth():
    rows = r_rows("synth.tr", "MASS") + r_rows("synth.te", "MASS")
    return floats(rows, ["xs", "ys"]), np.array([int(r["yc"]) for r in rows]), "classify"


def linnerud(part):
    with open(LINNERUD.format(part)) as f:
        return list(csv.DictReader(f, delimiter=" ", skipinitialspace=True))


def linnweight():
    return (floats(linnerud("exercise"), ["Chins", "Situps", "Jumps"]),
            floats(linnerud("physiological"), ["Weight"])[:, 0], "regress")


SETS = {"cats": cats, "airq": airq, "slid": slid, "forbes": forbes, "prestige": prestige,
        "letters": letters, "wells": wells, "synth": synth, "linnweight": linnweight}


def main():
    a, only = parse_args(SETS)
    if not (r_have("MASS", "carData", "mlbench", "HSAUR3") and
            os.path.isfile(LINNERUD.format("exercise"))):
        sys.exit("needs Rscript with r-cran-mass, r-cran-cardata, r-cran-mlbench and "
                 "r-cran-hsaur3, and python3-sklearn")
    os.makedirs(a.outdir, exist_ok=True)
    # perf/realdata.py's write_sets, with each set's own number of training rows; a set is left
    # out when it would test on fewer than MIN_TEST rows, or than its own default leaves
    # (linnweight's 6)
    index = []
    for name, load in SETS.items():
        if only and name not in only:
            continue
        x, y, task = load()
        train = min(a.train, TRAIN.get(name, a.train))
        least = min(realdata.MIN_TEST, len(y) - TRAIN.get(name, 100))
        if len(y) - train < least:
            print(f"{name}: left out, {len(y)} rows leave fewer than {least} test rows "
                  f"after --train {train}", file=sys.stderr)
            continue
        for s in range(a.splits):
            p = np.random.RandomState(1000 + s).permutation(len(y))
            for part, idx in (("train", p[:train]), ("test", p[train:])):
                write_rows(os.path.join(a.outdir, f"{name}-s{s}-{part}.csv"), x[idx], y[idx],
                           task == "classify")
        k = len(set(y.tolist())) if task == "classify" else 1
        print(f"{name} {task} features={x.shape[1]} rows={len(y)} train={train} outputs={k}")
        index.append(f"{name} {task} {x.shape[1]} {k}")
    with open(os.path.join(a.outdir, "sets.txt"), "w") as f:
        f.write("\n".join(index) + "\n")

if __name__ == "__main__":
    main()
