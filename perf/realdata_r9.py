#!/usr/bin/python3
"""A ninth held-out round: ten small real data sets for issue 13's protocol, none of them
among the 83 that perf/realdata.py, perf/realdata_extra.py and perf/realdata_r8.py write;
chosen and written by a helper before any run of occam on them. All come from R packages
Debian ships that no earlier round read (r-cran-modeldata, r-cran-palmerpenguins,
r-cran-ggplot2, r-cran-vcd, r-cran-hsaur3, r-cran-pscl, r-cran-th.data), read through Rscript
as perf/realdata.py reads its sixth round, and are written the same way (features..., target
last; 100 training rows by the seeded shuffle RandomState(1000 + split), the rest for
testing; OUTDIR/sets.txt), so perf/realdata_table.py runs them unchanged. A factor of k levels
is k columns of 0/1 (two levels: one column, 1 for the level named); an ordered factor (a
grade or a rating) is one column, its rank 1..k.
  concrete  regress   8 features, 1030 rows, a concrete mix's compressive strength (MPa) from
                      its cement, blast-furnace slag, fly ash, water, superplasticizer, coarse
                      and fine aggregate (kg/m3) and its age (days) (modeldata::concrete)
  biomass   regress   5 features, 536 rows, a biomass fuel's higher heating value (MJ/kg)
                      from its carbon, hydrogen, oxygen, nitrogen and sulfur (%); the sample's
                      name and the package's own split are not inputs (modeldata::biomass)
  penguins  regress  11 features, 333 of 344 rows, a Palmer penguin's body mass (g) from its
                      species (3), island (3), bill length and depth, flipper length, sex and
                      year; the 11 rows without a sex or a measurement are dropped
                      (palmerpenguins::penguins)
  diamonds  regress   9 features, 1000 of 53940 rows (seeded), a diamond's price ($, 2008)
                      from its carat, cut (rank of 5), colour (rank of 7, D best = 1),
                      clarity (rank of 8), depth, table and length, width and depth in mm
                      (ggplot2::diamonds)
  baseball  regress  19 features, 263 of 322 rows, a major-league batter's 1987 salary
                      ($1000s) from his 1986 and career batting, 1986 fielding and his leagues
                      and division; his name, team and position are not inputs, the 59 rows
                      without a salary are dropped (vcd::Baseball)
  hpc       classify 26 features, 1000 of 4331 rows (seeded), a high-performance computing
                      job's run-time class (very fast, fast, medium, long; 4 classes) from its
                      protocol (14), compounds, input fields, iterations, pending jobs, the
                      hour and the weekday (7) (modeldata::hpc_data)
  chfls     classify 14 features, 1000 of 1531 rows (seeded), a Chinese woman's happiness
                      (very unhappy, not too happy, somewhat happy, very happy; 4 classes, the
                      first only 14 of the 1534 women) from her region (6), age, education
                      (rank of 6), income, health (rank of 5) and height and her partner's
                      height, education and income; the 3 rows without the partner's education are
                      dropped (HSAUR3::CHFLS)
  vote92    classify  8 features, 909 rows, a 1992 US voter's choice (Perot, Clinton, Bush)
                      from party, sex, views of personal finances and the national economy,
                      and ideological distance from each candidate (pscl::vote92)
  glaucoma  classify 62 features, 196 rows, whether an eye has glaucoma from 62 laser
                      scanning measurements of the optic nerve head (TH.data::GlaucomaM)
  attrition classify 49 features, 1000 of 1470 rows (seeded), whether an IBM employee left
                      (16% did) from age, pay, travel (3), department (3), education (rank of
                      5) and its field (6), ratings of satisfaction, involvement, performance
                      and work-life balance (ranks), sex, job level and role (9), marriage
                      (3), overtime, stock options and years worked, at the company, in the
                      role, since a promotion and with the manager (modeldata::attrition;
                      fictional, made by IBM data scientists)
Usage: perf/realdata_r9.py OUTDIR [--train 100] [--splits 3] [--sets a,b,...]
Then: perf/realdata_table.py OUTDIR --select --occam build/occam --jobs 2"""
import os, sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import realdata
from realdata import complete, onehot, sample, r_quoted_rows as r_rows  # noqa


def rank(r, key, levels):
    return float(levels.index(r[key]) + 1)


def concrete():
    rows = r_rows("concrete", "modeldata")
    keys = [k for k in rows[0] if k != "compressive_strength"]
    return (np.array([[float(r[k]) for k in keys] for r in rows]),
            np.array([float(r["compressive_strength"]) for r in rows]), "regress")


def biomass():
    keys = ["carbon", "hydrogen", "oxygen", "nitrogen", "sulfur"]
    rows = r_rows("biomass", "modeldata")
    return (np.array([[float(r[k]) for k in keys] for r in rows]),
            np.array([float(r["HHV"]) for r in rows]), "regress")


def penguins():
    nums = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm"]
    rows = complete(r_rows("penguins", "palmerpenguins"), nums + ["body_mass_g", "sex"])
    x = [onehot(r, "species", ["Adelie", "Chinstrap", "Gentoo"]) +
         onehot(r, "island", ["Biscoe", "Dream", "Torgersen"]) +
         [float(r[k]) for k in nums] + [float(r["sex"] == "male"), float(r["year"])]
         for r in rows]
    return np.array(x), np.array([float(r["body_mass_g"]) for r in rows]), "regress"


def diamonds():
    cuts = ["Fair", "Good", "Very Good", "Premium", "Ideal"]
    colours = ["D", "E", "F", "G", "H", "I", "J"]
    clarities = ["I1", "SI2", "SI1", "VS2", "VS1", "VVS2", "VVS1", "IF"]
    a = np.array([[float(r["carat"]), rank(r, "cut", cuts), rank(r, "color", colours),
                   rank(r, "clarity", clarities)] +
                  [float(r[k]) for k in ("depth", "table", "x", "y", "z")] + [float(r["price"])]
                  for r in r_rows("diamonds", "ggplot2")])
    a = sample(a, 1000)
    return a[:, :-1], a[:, -1], "regress"


def baseball():
    nums = ["atbat86", "hits86", "homer86", "runs86", "rbi86", "walks86", "years", "atbat",
            "hits", "homeruns", "runs", "rbi", "walks", "outs86", "assist86", "error86"]
    rows = complete(r_rows("Baseball", "vcd"), ["sal87"])
    x = [[float(r[k]) for k in nums] + [float(r["league86"] == "N"), float(r["div86"] == "W"),
                                        float(r["league87"] == "N")] for r in rows]
    return np.array(x), np.array([float(r["sal87"]) for r in rows]), "regress"


def hpc():
    nums = ["compounds", "input_fields", "iterations", "num_pending", "hour"]
    a = np.array([onehot(r, "protocol", list("ACDEFGHIJKLMNO")) + [float(r[k]) for k in nums] +
                  onehot(r, "day", ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]) +
                  [["VF", "F", "M", "L"].index(r["class"])]
                  for r in r_rows("hpc_data", "modeldata")])
    a = sample(a, 1000)
    return a[:, :-1], a[:, -1].astype(int), "classify"


def chfls():
    edu = ["Never attended school", "Elementary school", "Junior high school",
           "Senior high school", "Junior college", "University"]
    health = ["Poor", "Not good", "Fair", "Good", "Excellent"]
    happy = ["Very unhappy", "Not too happy", "Somewhat happy", "Very happy"]
    regions = ["Coastal South", "Coastal East", "Inlands", "North", "Northeast", "Central West"]
    rows = r_rows("CHFLS", "HSAUR3")
    rows = complete(rows, list(rows[0]))
    a = np.array([onehot(r, "R_region", regions) +
                  [float(r["R_age"]), rank(r, "R_edu", edu), float(r["R_income"]),
                   rank(r, "R_health", health), float(r["R_height"]), float(r["A_height"]),
                   rank(r, "A_edu", edu), float(r["A_income"]), happy.index(r["R_happy"])]
                  for r in rows])
    a = sample(a, 1000)
    return a[:, :-1], a[:, -1].astype(int), "classify"


def vote92():
    keys = ["dem", "rep", "female", "persfinance", "natlecon", "clintondis", "bushdis",
            "perotdis"]
    rows = r_rows("vote92", "pscl")
    return (np.array([[float(r[k]) for k in keys] for r in rows]),
            np.array([["Perot", "Clinton", "Bush"].index(r["vote"]) for r in rows]), "classify")


def glaucoma():
    rows = r_rows("GlaucomaM", "TH.data")
    keys = [k for k in rows[0] if k != "Class"]
    return (np.array([[float(r[k]) for k in keys] for r in rows]),
            np.array([["normal", "glaucoma"].index(r["Class"]) for r in rows]), "classify")


def attrition():
    nums = ["Age", "DailyRate", "DistanceFromHome", "HourlyRate", "JobLevel", "MonthlyIncome",
            "MonthlyRate", "NumCompaniesWorked", "PercentSalaryHike", "StockOptionLevel",
            "TotalWorkingYears", "TrainingTimesLastYear", "YearsAtCompany",
            "YearsInCurrentRole", "YearsSinceLastPromotion", "YearsWithCurrManager"]
    four = ["Low", "Medium", "High", "Very_High"]
    ranks = {"Education": ["Below_College", "College", "Bachelor", "Master", "Doctor"],
             "EnvironmentSatisfaction": four, "JobInvolvement": four, "JobSatisfaction": four,
             "RelationshipSatisfaction": four,
             "PerformanceRating": ["Low", "Good", "Excellent", "Outstanding"],
             "WorkLifeBalance": ["Bad", "Good", "Better", "Best"]}
    factors = {"BusinessTravel": ["Non-Travel", "Travel_Frequently", "Travel_Rarely"],
               "Department": ["Human_Resources", "Research_Development", "Sales"],
               "EducationField": ["Human_Resources", "Life_Sciences", "Marketing", "Medical",
                                  "Other", "Technical_Degree"],
               "JobRole": ["Healthcare_Representative", "Human_Resources",
                           "Laboratory_Technician", "Manager", "Manufacturing_Director",
                           "Research_Director", "Research_Scientist", "Sales_Executive",
                           "Sales_Representative"],
               "MaritalStatus": ["Divorced", "Married", "Single"]}
    a = np.array([[float(r[k]) for k in nums] + [rank(r, k, v) for k, v in ranks.items()] +
                  [x for k, v in factors.items() for x in onehot(r, k, v)] +
                  [float(r["Gender"] == "Male"), float(r["OverTime"] == "Yes"),
                   ["No", "Yes"].index(r["Attrition"])]
                  for r in r_rows("attrition", "modeldata")])
    a = sample(a, 1000)
    return a[:, :-1], a[:, -1].astype(int), "classify"


SETS = {"concrete": concrete, "biomass": biomass, "penguins": penguins, "diamonds": diamonds,
        "baseball": baseball, "hpc": hpc, "chfls": chfls, "vote92": vote92,
        "glaucoma": glaucoma, "attrition": attrition}


def main():
    realdata.r_round_main(SETS, ["modeldata", "palmerpenguins", "ggplot2", "vcd", "HSAUR3",
                                 "pscl", "TH.data"])

if __name__ == "__main__":
    main()
