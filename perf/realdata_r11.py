#!/usr/bin/python3
"""An eleventh held-out round: six small real data sets for issue 13's protocol, none of them
among the 102 of perf/realdata.py, perf/realdata_extra.py and perf/realdata_r8.py to
perf/realdata_r10.py; chosen and written by a helper playing a new user (with R's write.csv,
factors coded by hand), who then trained the noisy default, the decays and select on them by
hand, before any run of this table. All six come from R packages (r-cran-modeldata,
r-cran-pscl, r-cran-hsaur3, r-cran-aer), read through Rscript as perf/realdata_r10.py reads
its sets, and are written the same way (features..., target last; training rows by the
seeded shuffle RandomState(1000 + split), the rest for testing; OUTDIR/sets.txt), so
perf/realdata_table.py runs them unchanged. A factor of two levels is one column of 0/1 (1
for the level named); an ordered factor's levels are its codes 1, 2, ... (HMDA's credit
histories) or, as a label, 0, 1, ....
  meats     regress 100 features, 215 rows, a meat sample's fat (%) from its near-infrared
                      absorbance at 100 wavelengths (modeldata::meats, the Tecator data;
                      water and protein are not inputs): inputs as many as training rows,
                      and nearly collinear
  carprices regress  17 features, 804 rows, a used GM car's price ($, 2005) from its mileage,
                      cylinders, doors, cruise control, sound system, leather, make (six 0/1
                      columns) and body (five) (modeldata::car_prices)
  biochem   regress   5 features, 915 rows, a biochemistry PhD student's articles in the
                      last three years of the PhD from sex, married, children under 5, the
                      PhD programme's prestige and the mentor's articles (pscl::bioChemists;
                      a count that the inputs barely predict)
  skulls    classify  4 features, 150 rows, an Egyptian skull's epoch (5 classes, 4000 BC to
                      150 AD) from four measurements (mm) (HSAUR3::skulls; 50 test rows)
  bankwages classify  3 features, 474 rows, a bank employee's job (custodial, admin,
                      manage) from education (years), sex and minority (AER::BankWages)
  hmda      classify 13 features, 1000 of 2380 rows (seeded), whether a Boston mortgage
                      application was denied (1990) from payment and housing expense to
                      income ratios, loan to value, unemployment rate of the industry,
                      consumer and mortgage credit history (codes), public bad credit,
                      self-employed, insurance denied, condominium, African-American, single,
                      high-school diploma (AER::HMDA)
Usage: perf/realdata_r11.py OUTDIR [--train 100] [--splits 3] [--sets a,b,...]
Then: perf/realdata_table.py OUTDIR --select --occam build/occam --jobs 2"""
import os, sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import realdata
from realdata import floats, sample, r_quoted_rows as r_rows  # noqa


def meats():
    rows = r_rows("meats", "modeldata")
    keys = [f"x_{i:03d}" for i in range(1, 101)]
    return floats(rows, keys), floats(rows, ["fat"])[:, 0], "regress"


def carprices():
    rows = r_rows("car_prices", "modeldata")
    keys = [k for k in rows[0] if k != "Price"]
    return floats(rows, keys), floats(rows, ["Price"])[:, 0], "regress"


def biochem():
    rows = r_rows("bioChemists", "pscl")
    x = np.array([[float(r["fem"] == "Women"), float(r["mar"] == "Married"), float(r["kid5"]),
                   float(r["phd"]), float(r["ment"])] for r in rows])
    return x, floats(rows, ["art"])[:, 0], "regress"


def skulls():
    rows = r_rows("skulls", "HSAUR3")
    epochs = ["c4000BC", "c3300BC", "c1850BC", "c200BC", "cAD150"]
    return (floats(rows, ["mb", "bh", "bl", "nh"]),
            np.array([epochs.index(r["epoch"]) for r in rows]), "classify")


def bankwages():
    rows = r_rows("BankWages", "AER")
    jobs = ["custodial", "admin", "manage"]
    x = np.array([[float(r["education"]), float(r["gender"] == "female"),
                   float(r["minority"] == "yes")] for r in rows])
    return x, np.array([jobs.index(r["job"]) for r in rows]), "classify"


def hmda():
    rows = r_rows("HMDA", "AER")
    yes = ["phist", "selfemp", "insurance", "condomin", "afam", "single", "hschool"]
    a = np.array([[float(r[k]) for k in ("pirat", "hirat", "lvrat", "unemp", "chist", "mhist")] +
                  [float(r[k] == "yes") for k in yes] + [float(r["deny"] == "yes")]
                  for r in rows])
    a = sample(a, 1000)
    return a[:, :-1], a[:, -1].astype(int), "classify"


SETS = {"meats": meats, "carprices": carprices, "biochem": biochem, "skulls": skulls,
        "bankwages": bankwages, "hmda": hmda}


def main():
    realdata.r_round_main(SETS, ["modeldata", "pscl", "HSAUR3", "AER"])


if __name__ == "__main__":
    main()
