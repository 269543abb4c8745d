#!/usr/bin/python3
"""An eighth held-out round: ten small real data sets for issue 13's protocol, none of them
among the 73 that perf/realdata.py and perf/realdata_extra.py write; chosen and written by a
helper before any run of occam on them. All come from R packages Debian ships that no earlier
round read (r-cran-cardata, r-cran-aer, r-cran-kernlab), read through Rscript as
perf/realdata.py reads its sixth round, and are written the same way (features..., target
last; 100 training rows by the seeded shuffle RandomState(1000 + split), the rest for
testing; OUTDIR/sets.txt), so perf/realdata_table.py runs them unchanged. A factor of k levels
is k columns of 0/1 (two levels: one column, 1 for the level named).
  salaries    regress   7 features, 397 rows, a US professor's nine-month salary ($, 2008-09)
                        from rank (3), discipline (applied), years since the PhD, years of
                        service and sex (carData::Salaries)
  caschools   regress   9 features, 420 rows, a California school district's mean test score
                        ((read + math) / 2, 1998-99) from enrolment, teachers, CalWorks and
                        free-lunch shares, computers, spending per pupil, district income,
                        English learners and the grade span; district, school and county
                        (identifiers) are not inputs (AER::CASchools)
  houseprices regress  11 features, 546 rows, a house's sale price (Canadian $, Windsor 1987)
                        from lot size, bedrooms, bathrooms, stories, garage places and six
                        yes/no amenities (AER::HousePrices)
  cps1985     regress  19 features, 534 rows, a US worker's hourly wage ($, 1985) from
                        schooling, experience, age, ethnicity (3), the South, sex, occupation
                        (6), sector (3), union membership and marriage (AER::CPS1985)
  teaching    regress  10 features, 463 rows, a University of Texas course's mean evaluation
                        score (1-5) from its instructor's beauty rating, age, sex, minority,
                        native English, tenure, the course's credits and division, and the
                        students answering and enrolled; the instructor (an identifier, 94 of
                        them) is not an input (AER::TeachingRatings)
  swisslabor  classify  6 features, 872 rows, whether a Swiss woman is in the labour force
                        from log non-labour income, age (decades), schooling, young and older
                        children and being foreign (AER::SwissLabor)
  womenlf     classify  7 features, 263 rows, a Canadian married woman's work (full time,
                        none, part time; 3 classes) from her husband's income, children present
                        and the region (5) (carData::Womenlf)
  beps        classify  9 features, 1000 of 1525 rows (seeded), a 1997-2001 British voter's
                        party (Conservative, Labour, Liberal Democrat) from age, two economic
                        judgements, ratings of the three leaders, views on Europe, political
                        knowledge and sex (carData::BEPS)
  spam        classify 57 features, 1000 of 4601 rows (seeded), whether an e-mail is spam
                        from word and character frequencies and capital-run lengths
                        (kernlab::spam; heavy-tailed)
  titanic     classify  5 features, 1046 of 1309 rows, whether a Titanic passenger survived
                        from sex, age and class (3); the 263 rows without an age are dropped
                        (carData::TitanicSurvival)
Usage: perf/realdata_r8.py OUTDIR [--train 100] [--splits 3] [--sets a,b,...]
Then: perf/realdata_table.py OUTDIR --select --occam build/occam --jobs 2"""
import os, sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import realdata
from realdata import complete, onehot, r_rows, sample  # noqa


def salaries():
    x, y = [], []
    for r in r_rows("Salaries", "carData"):
        x.append(onehot(r, "rank", ["AsstProf", "AssocProf", "Prof"]) +
                 [float(r["discipline"] == "B"), float(r["yrs.since.phd"]),
                  float(r["yrs.service"]), float(r["sex"] == "Male")])
        y.append(float(r["salary"]))
    return np.array(x), np.array(y), "regress"


def caschools():
    keys = ["students", "teachers", "calworks", "lunch", "computer", "expenditure", "income",
            "english"]
    x, y = [], []
    for r in r_rows("CASchools", "AER"):
        x.append([float(r[k]) for k in keys] + [float(r["grades"] == "KK-08")])
        y.append((float(r["read"]) + float(r["math"])) / 2)
    return np.array(x), np.array(y), "regress"


def houseprices():
    nums = ["lotsize", "bedrooms", "bathrooms", "stories", "garage"]
    yes = ["driveway", "recreation", "fullbase", "gasheat", "aircon", "prefer"]
    rows = r_rows("HousePrices", "AER")
    return (np.array([[float(r[k]) for k in nums] + [float(r[k] == "yes") for k in yes]
                      for r in rows]),
            np.array([float(r["price"]) for r in rows]), "regress")


def cps1985():
    x, y = [], []
    for r in r_rows("CPS1985", "AER"):
        x.append([float(r[k]) for k in ("education", "experience", "age")] +
                 onehot(r, "ethnicity", ["cauc", "hispanic", "other"]) +
                 [float(r["region"] == "south"), float(r["gender"] == "female")] +
                 onehot(r, "occupation", ["worker", "technical", "services", "office", "sales",
                                          "management"]) +
                 onehot(r, "sector", ["manufacturing", "construction", "other"]) +
                 [float(r["union"] == "yes"), float(r["married"] == "yes")])
        y.append(float(r["wage"]))
    return np.array(x), np.array(y), "regress"


def teaching():
    x, y = [], []
    for r in r_rows("TeachingRatings", "AER"):
        x.append([float(r["beauty"]), float(r["age"]), float(r["gender"] == "female"),
                  float(r["minority"] == "yes"), float(r["native"] == "yes"),
                  float(r["tenure"] == "yes"), float(r["credits"] == "single"),
                  float(r["division"] == "upper"), float(r["students"]),
                  float(r["allstudents"])])
        y.append(float(r["eval"]))
    return np.array(x), np.array(y), "regress"


def swisslabor():
    keys = ["income", "age", "education", "youngkids", "oldkids"]
    rows = r_rows("SwissLabor", "AER")
    return (np.array([[float(r[k]) for k in keys] + [float(r["foreign"] == "yes")]
                      for r in rows]),
            np.array([["no", "yes"].index(r["participation"]) for r in rows]), "classify")


def womenlf():
    rows = r_rows("Womenlf", "carData")
    x = [[float(r["hincome"]), float(r["children"] == "present")] +
         onehot(r, "region", ["Atlantic", "BC", "Ontario", "Prairie", "Quebec"]) for r in rows]
    y = [["fulltime", "not.work", "parttime"].index(r["partic"]) for r in rows]
    return np.array(x), np.array(y), "classify"


def beps():
    keys = ["age", "economic.cond.national", "economic.cond.household", "Blair", "Hague",
            "Kennedy", "Europe", "political.knowledge"]
    parties = ["Conservative", "Labour", "Liberal Democrat"]
    rows = r_rows("BEPS", "carData")
    a = np.array([[float(r[k]) for k in keys] + [float(r["gender"] == "female"),
                                                 parties.index(r["vote"])] for r in rows])
    a = sample(a, 1000)
    return a[:, :-1], a[:, -1].astype(int), "classify"


def spam():
    rows = r_rows("spam", "kernlab")
    keys = [k for k in rows[0] if k != "type"]
    a = np.array([[float(r[k]) for k in keys] + [["nonspam", "spam"].index(r["type"])]
                  for r in rows])
    a = sample(a, 1000)
    return a[:, :-1], a[:, -1].astype(int), "classify"


def titanic():
    rows = complete(r_rows("TitanicSurvival", "carData"), ["age"])
    x = [[float(r["sex"] == "female"), float(r["age"])] +
         onehot(r, "passengerClass", ["1st", "2nd", "3rd"]) for r in rows]
    y = [["no", "yes"].index(r["survived"]) for r in rows]
    return np.array(x), np.array(y), "classify"


SETS = {"salaries": salaries, "caschools": caschools, "houseprices": houseprices,
        "cps1985": cps1985, "teaching": teaching, "swisslabor": swisslabor,
        "womenlf": womenlf, "beps": beps, "spam": spam, "titanic": titanic}


def main():
    realdata.r_round_main(SETS, ["carData", "AER", "kernlab"])

if __name__ == "__main__":
    main()
