#!/usr/bin/python3
"""A thirteenth held-out round: eight small real data sets for issue 13's protocol, none of them
among the 116 of perf/realdata.py, perf/realdata_extra.py and perf/realdata_r8.py to
perf/realdata_r12.py; chosen and written by a helper playing a new user, before any run of
occam on them. All eight come from R data sets Debian ships (r-cran-robustbase, r-cran-plm,
r-cran-gstat, r-cran-cardata, r-cran-dslabs, r-cran-survival, r-cran-caret, r-cran-mlmrev), read
through Rscript as perf/realdata_r12.py reads its sets, and are written the same way
(features..., target last; training rows by the seeded shuffle RandomState(1000 + split), the
rest for testing; OUTDIR/sets.txt), so perf/realdata_table.py runs them unchanged. A factor of
two levels is one column of 0/1 (1 for the level named); a factor of k levels is k - 1 columns
of 0/1 (the first level is none of them; a level no row has is left out); a class label is its
level's place, 0, 1, .... Identifiers (a farm, a sample, a country, a woman, a district) are
not inputs.
  possum    regress  11 features, 151 rows, the number of arboreal marsupial species (0-5)
                      seen at a site in Victoria's montane forests from its shrubs, stumps,
                      stags, bark, habitat score and acacia basal area, the eucalypt species
                      (delegatensis, nitens; regnans is neither) and the aspect (NW-SE, SE-SW,
                      SW-NW; NW-NE is none) (robustbase::possumDiv; a small count)
  rice      regress  23 features, 1026 rows, an Indonesian rice farm's gross output in a
                      season (kg) from its size (ha), tenure (share, mixed; owner is neither),
                      varieties (high-yield, mixed; traditional is neither), the BIMAS
                      programme (yes, mixed; no is neither), seed, urea and phosphate (kg) and
                      their prices, pesticide (Rupiah), hired and family labour (hours), the
                      wage, the rice price and the village (five 0/1 columns); the farm (171
                      of them, six seasons each), total labour (hired + family) and net output
                      are not inputs (plm::RiceFarms; heavy-tailed; rows are split at random,
                      so a farm's seasons fall on both sides, as mathach's pupils of one
                      school do in perf/realdata_r12.py)
  meuse     regress  10 features, 162 of 164 rows, the zinc in the topsoil of the Meuse's
                      flood plain near Stein (ppm) from the sample's coordinates (m), relative
                      elevation, distance to the river (m), organic matter (%), flooding
                      frequency class (2, 3; 1 is neither), soil type (2, 3; 1 is neither)
                      and lime; the other metals, the land use, the sample number and the
                      in.pit, in.meuse155 and in.BMcD flags are not inputs, the 2 rows without
                      organic matter are dropped (gstat::meuse.all,
                      the full set: the pit samples and the outlier that sp::meuse leaves out
                      are in; heavy-tailed)
  lifeexp   regress  11 features, 193 of 213 rows, a country's female life expectancy (years;
                      UN tables of 2012) from its region (Asia, Caribbean, Europe, Latin
                      America, North America, Oceania; Africa is none), OECD membership,
                      fertility (children per woman), GDP per person ($), urban share (%) and
                      infant mortality (per 1000 births); the 20 places with a missing figure
                      are dropped; the package's group is OECD membership here, its third
                      level (africa) being region Africa again (carData::UN)
  olive     classify  8 features, 572 rows, an Italian olive oil's region (Northern Italy,
                      Sardinia, Southern Italy) from its eight fatty acids (% of the total);
                      the area within the region is not an input (dslabs::olive)
  logan     classify  6 features, 838 rows, a US man's occupation (farm, operatives,
                      craftsmen, sales, professional; farm 19 rows) from his father's (four 0/1
                      columns; farm is none), his schooling (years) and race (survival::logan,
                      General Social Survey)
  gercredit classify 48 features, 1000 rows, whether a German bank's credit applicant is a
                      good risk (700) or bad from duration, amount, instalment rate, years at
                      the residence, age, existing credits, dependants, telephone, foreign
                      worker and eleven factors (checking account, history, purpose, savings,
                      employment, personal status, guarantors, property, other plans, housing,
                      job), each without its first level and the two levels no applicant has
                      (caret::GermanCredit, the Statlog German credit data)
  contracept classify  5 features, 1000 of 1934 rows (seeded), whether a Bangladeshi woman used
                      contraception (1988 Fertility Survey) from her living children (1, 2, 3+;
                      none is none of them), age (years from the mean) and urban residence; the
                      district and the woman are not inputs (mlmRev::Contraception)
Usage: perf/realdata_r13.py OUTDIR [--train 100] [--splits 3] [--sets a,b,...]
Then: perf/realdata_table.py OUTDIR --select --occam build/occam --jobs 2"""
import os, sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import realdata
from realdata import complete, floats, onehot, sample, r_quoted_rows as r_rows  # noqa


def possum():
    rows = r_rows("possumDiv", "robustbase")
    x = np.array([[float(r[k]) for k in ("Shrubs", "Stumps", "Stags", "Bark", "Habitat",
                                         "BAcacia")] +
                  onehot(r, "eucalyptus", ["delegatensis", "nitens"]) +
                  onehot(r, "aspect", ["NW-SE", "SE-SW", "SW-NW"]) for r in rows])
    return x, floats(rows, ["Diversity"])[:, 0], "regress"


def rice():
    rows = r_rows("RiceFarms", "plm")
    nums = ["seed", "urea", "phosphate", "pesticide", "pseed", "purea", "pphosph",
            "hiredlabor", "famlabor", "wage", "price"]
    villages = ["langan", "gunungwangi", "malausma", "sukaambit", "ciwangi"]
    x = np.array([[float(r["size"])] + onehot(r, "status", ["share", "mixed"]) +
                  onehot(r, "varieties", ["high", "mixed"]) +
                  onehot(r, "bimas", ["yes", "mixed"]) + [float(r[k]) for k in nums] +
                  onehot(r, "region", villages) for r in rows])
    return x, floats(rows, ["goutput"])[:, 0], "regress"


def meuse():
    rows = complete(r_rows("meuse.all", "gstat"), ["om"])
    x = np.array([[float(r[k]) for k in ("x", "y", "elev", "dist.m", "om")] +
                  [float(float(r["ffreq"]) == v) for v in (2, 3)] +
                  [float(float(r["soil"]) == v) for v in (2, 3)] + [float(r["lime"])]
                  for r in rows])
    return x, floats(rows, ["zinc"])[:, 0], "regress"


def lifeexp():
    nums = ["fertility", "ppgdp", "pctUrban", "infantMortality"]
    rows = complete(r_rows("UN", "carData"), ["region", "group", "lifeExpF"] + nums)
    regions = ["Asia", "Caribbean", "Europe", "Latin Amer", "North America", "Oceania"]
    x = np.array([onehot(r, "region", regions) + [float(r["group"] == "oecd")] +
                  [float(r[k]) for k in nums] for r in rows])
    return x, floats(rows, ["lifeExpF"])[:, 0], "regress"


def olive():
    rows = r_rows("olive", "dslabs")
    acids = ["palmitic", "palmitoleic", "stearic", "oleic", "linoleic", "linolenic",
             "arachidic", "eicosenoic"]
    regions = ["Northern Italy", "Sardinia", "Southern Italy"]
    return floats(rows, acids), np.array([regions.index(r["region"]) for r in rows]), "classify"


def logan():
    rows = r_rows("logan", "survival")
    jobs = ["farm", "operatives", "craftsmen", "sales", "professional"]
    x = np.array([onehot(r, "focc", jobs[1:]) + [float(r["education"]),
                                                 float(r["race"] == "black")] for r in rows])
    return x, np.array([jobs.index(r["occupation"]) for r in rows]), "classify"


# GermanCredit's factors come as one 0/1 column a level: the first level of each, and the
# two levels no applicant has, are left out.
GC_DROP = {"CheckingAccountStatus.lt.0", "CreditHistory.NoCredit.AllPaid", "Purpose.NewCar",
           "Purpose.Vacation", "SavingsAccountBonds.lt.100", "EmploymentDuration.lt.1",
           "Personal.Male.Divorced.Seperated", "Personal.Female.Single",
           "OtherDebtorsGuarantors.None", "Property.RealEstate", "OtherInstallmentPlans.Bank",
           "Housing.Rent", "Job.UnemployedUnskilled"}


def gercredit():
    rows = r_rows("GermanCredit", "caret")
    keys = [k for k in rows[0] if k != "Class" and k not in GC_DROP]
    return (floats(rows, keys), np.array([int(r["Class"] == "Good") for r in rows]),
            "classify")


def contracept():
    rows = r_rows("Contraception", "mlmRev")
    a = np.array([onehot(r, "livch", ["1", "2", "3+"]) +
                  [float(r["age"]), float(r["urban"] == "Y"), float(r["use"] == "Y")]
                  for r in rows])
    a = sample(a, 1000)
    return a[:, :-1], a[:, -1].astype(int), "classify"


SETS = {"possum": possum, "rice": rice, "meuse": meuse, "lifeexp": lifeexp, "olive": olive,
        "logan": logan, "gercredit": gercredit, "contracept": contracept}


def main():
    realdata.r_round_main(SETS, ["robustbase", "plm", "gstat", "carData", "dslabs", "survival",
                                 "caret", "mlmRev"])


if __name__ == "__main__":
    main()
