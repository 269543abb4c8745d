#!/usr/bin/python3
"""Writes small real data sets as occam CSVs (features..., target last), split into a training
set of --train rows and a test set of the rest, by a seeded shuffle. The sets are the ones
Debian's python3-sklearn ships as plain files (read here with the csv module and numpy, no
scikit-learn import):
  diabetes  regress   10 features, 442 rows, disease progression score 25..346
  boston    regress   13 features, 506 rows, median house value in $1000s
  cancer    classify  30 features, 569 rows, malignant/benign
  wine      classify  13 features, 178 rows, 3 cultivars
  iris      classify   4 features, 150 rows, 3 species
  digits    classify  64 features, 1797 rows, 10 handwritten digits (8x8 pixel counts)
and, when python3-statsmodels is installed (its data sets are plain CSVs too), four more
regression sets and one more classification set,
  star98    regress   20 features, 303 rows, % of a district's pupils above the national
                      median in maths (California STAR 1998)
  grunfeld  regress    3 features, 220 rows, a firm's gross investment (value, capital, year)
  fair      regress    8 features, 600 of 6366 rows (seeded), time spent in affairs
  randhie   regress    9 features, 600 of 20190 rows (seeded), doctor visits (RAND HIE)
  anes96    classify   9 features, 944 rows, vote in the 1996 US election
and four held out until the default was chosen (see the README):
  macrodata regress   11 features, 203 rows, US real private investment (quarterly)
  engel     regress    1 feature,  235 rows, a household's food expenditure from its income
  sunspots  regress    6 features, 303 rows, the yearly sunspot number from the six before
  modechoice classify 10 features, 840 rows, whether a traveller chose this mode
and, when gretl-data and python3-vega-datasets are installed, five held out until after
the default was fixed (the README says how the default did on them, untouched):
  cars      regress    7 features, 392 rows, a car's miles per gallon (1970-82 models)
  bikes     regress   10 features, 731 rows, bicycles hired a day in Washington DC
  galton    regress    1 feature,  928 rows, a child's adult height from the parents'
  mroz      classify  14 features, 753 rows, whether a married woman worked in 1975
  recid     classify  15 features, 1445 rows, whether a released prisoner was re-arrested
and, when gretl-data is installed, eleven held out in a second round (chosen, written and run
once with the shipped default, after the first round; nothing was changed after):
  homes     regress    6 features, 224 rows, a house's sale price in $1000s
  profsal   regress    7 features, 222 rows, a professor's salary in $1000s
  colgpa    regress    9 features, 427 rows, first-year college GPA
  wages     regress   11 features, 758 rows, a young man's log wage (Griliches)
  nccrime   regress   28 features, 630 rows, crimes per person in a county-year
  ucomp     regress    8 features, 252 rows, unemployment compensation received (many zeros)
  doctor    regress   12 features, 600 of 5190 rows (seeded), doctor visits in two weeks
  cardhldr  classify   5 features, 1319 rows, whether a credit card application was accepted
  wtp       classify   4 features, 312 rows, answers to two bids (4 classes)
  union     classify  10 features, 1000 of 4360 rows (seeded), union membership
  pension   classify  16 features, 194 rows, how a pension is invested (3 classes)
and, when gretl-data is installed (weather: python3-vega-datasets), eight held out in a third
round (chosen and written before any run on them, run once with the shipped default):
  banks     regress    5 features, 198 rows, an Italian bank's variable costs
  abemp     regress    4 features, 600 of 1031 rows (seeded), a UK company's employment
  celgdp    regress    3 features, 481 rows, a country's real GDP per capita
  hsat      regress    9 features, 600 rows (seeded), health satisfaction 0-10 (German panel)
  kwage     regress    7 features, 600 rows (seeded), a young man's annual wage in 1987 $
  kstatus   classify   6 features, 1000 rows (seeded), school, home or work (3 classes)
  weather   classify   5 features, 1000 of 1461 days (seeded), Seattle's weather (5 classes)
  public    classify  11 features, 1000 rows (seeded), public health insurance
and eight held out in a fourth round (chosen and written before any run on them, run once
with the shipped default; autoprice, bcdeaths and lowbw: python3-statsmodels, which ships them
as test data; eload, carspend, gdpgrowth and affairs: gretl-data; region:
python3-vega-datasets):
  autoprice regress   15 features, 195 rows, a 1985 car's list price in $ (UCI Automobile)
  bcdeaths  regress    1 feature,  301 rows, breast-cancer deaths in a county from its population
  eload     regress    4 features, 744 rows, an electric company's hourly load in megawatts
  carspend  regress   12 features, 202 rows, US monthly spending on new cars (collinear series)
  gdpgrowth regress    6 features, 257 rows, US quarterly GDP growth from monthly indicators
  affairs   classify   8 features, 601 rows, any extramarital affair in the past year (Fair 1977)
  lowbw     classify   9 features, 189 rows, a low birth weight (Hosmer and Lemeshow)
  region    classify   2 features, 1000 of 3340 rows (seeded), a US airport's census region
and seven held out in a fifth round (chosen and written before any run on them, run once with
the shipped default; pigweight, seizures, docvis, privins and congmesg: python3-statsmodels,
which ships them as test data; seatemp and origin: python3-vega-datasets):
  pigweight regress    4 features, 789 rows, a pig's weight (kg) from its feed, week and doses
  seizures  regress    5 features, 236 rows, epileptic seizures in two weeks (Thall and Vail)
  docvis    regress   11 features, 600 of 3629 rows (seeded), doctor visits in a year (MEPS)
  seatemp   regress    2 features, 1000 of 8758 hours (seeded), Seattle's temperature in 2010
  origin    classify   6 features, 392 rows, a car's origin (USA, Europe, Japan; 1970-82 models)
  privins   classify   9 features, 1000 of 3629 rows (seeded), private health insurance (MEPS)
  congmesg  classify  11 features, 265 rows, whether a subject wrote to Congress (Brader et al.)
and eleven held out in a sixth round (chosen and written before any run on them, run once with
the shipped default; from the R packages r-cran-mass and r-cran-mlbench, and quakes from
r-base-core, read through Rscript):
  cpus      regress    6 features, 209 rows, a computer's published relative performance
  ozone     regress   10 features, 203 days, Los Angeles' daily maximum ozone in 1976
  nlschools regress    4 features, 600 of 2287 pupils (seeded), a language test score
  servo     regress   12 features, 167 rows, a servo system's rise time
  quakes    regress    4 features, 1000 rows, an earthquake's magnitude near Fiji
  sonar     classify  60 features, 208 rows, metal cylinder or rock from sonar returns
  ionosphere classify 33 features, 351 rows, a good or bad radar return
  vehicle   classify  18 features, 846 rows, a vehicle's silhouette (4 classes)
  pima      classify   8 features, 768 rows, diabetes in a Pima woman
  glass     classify   9 features, 214 rows, a glass fragment's kind (6 classes)
  crabs     classify   6 features, 200 rows, a crab's species from its shell
Usage: perf/realdata.py OUTDIR [--train 100] [--splits 3] [--sets a,b,...]
A set whose rows leave fewer than 50 for the test set after --train is left out (said on
stderr). Writes OUTDIR/NAME-sS-train.csv and OUTDIR/NAME-sS-test.csv for split s = 0..splits-1, and
OUTDIR/sets.txt: one line per set, "NAME TASK FEATURES OUTPUTS"."""
import argparse, csv, gzip, os, sys
import numpy as np

D = "/usr/lib/python3/dist-packages/sklearn/datasets/data"

def first_header(path):
    with open(path) as f:
        rows = list(csv.reader(f))
    return np.array([[float(v) for v in r] for r in rows[1:] if r], dtype=float)

def boston():
    with open(os.path.join(D, "boston_house_prices.csv")) as f:
        rows = list(csv.reader(f))[2:]
    a = np.array([[float(v) for v in r] for r in rows if r], dtype=float)
    return a[:, :-1], a[:, -1], "regress"

def diabetes():
    x = np.loadtxt(gzip.open(os.path.join(D, "diabetes_data_raw.csv.gz")))
    y = np.loadtxt(gzip.open(os.path.join(D, "diabetes_target.csv.gz")))
    return x, y, "regress"

def labelled(name):
    a = first_header(os.path.join(D, name))
    return a[:, :-1], a[:, -1].astype(int), "classify"

def digits():
    a = np.loadtxt(gzip.open(os.path.join(D, "digits.csv.gz")), delimiter=",")
    return a[:, :-1], a[:, -1].astype(int), "classify"

SM = "/usr/lib/python3/dist-packages/statsmodels/datasets"

def sm_rows(rel, delim=","):
    with open(os.path.join(SM, rel)) as f:
        return [r for r in list(csv.reader(f, delimiter=delim))[1:] if r]

def sample(a, n):
    """n rows of a by a fixed seeded shuffle (for the large sets)."""
    return a[np.random.RandomState(7).permutation(len(a))[:n]]

def star98():
    a = np.array(sm_rows("star98/star98.csv"), dtype=float)
    return a[:, 2:], 100.0 * a[:, 1] / a[:, 0], "regress"

def grunfeld():
    a = np.array([[r[0], r[1], r[2], r[4]] for r in sm_rows("grunfeld/grunfeld.csv")], dtype=float)
    return a[:, 1:], a[:, 0], "regress"

def fair():
    a = sample(np.array(sm_rows("fair/fair.csv"), dtype=float), 600)
    return a[:, :-1], a[:, -1], "regress"

def randhie():
    a = sample(np.array(sm_rows("randhie/randhie.csv"), dtype=float), 600)
    return a[:, 1:], a[:, 0], "regress"

def anes96():
    a = np.array(sm_rows("anes96/anes96.csv", "\t"), dtype=float)
    return a[:, :-1], a[:, -1].astype(int), "classify"

def macrodata():
    """US quarterly macro series 1959-2009: real private investment from the other eleven."""
    a = np.array(sm_rows("macrodata/macrodata.csv"), dtype=float)
    keep = [2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13]
    return a[:, keep], a[:, 4], "regress"

def engel():
    a = np.array(sm_rows("engel/engel.csv"), dtype=float)
    return a[:, :1], a[:, 1], "regress"

def sunspots():
    """Yearly sunspot numbers 1700-2008: this year's from the six before."""
    v = np.array([float(r[1]) for r in sm_rows("sunspots/sunspots.csv")])
    lags = 6
    x = np.stack([v[i:len(v) - lags + i] for i in range(lags)], axis=1)
    return x, v[lags:], "regress"

def modechoice():
    """Travel between Sydney and Melbourne: was this mode (air, train, bus, car) chosen?"""
    a = np.array(sm_rows("modechoice/modechoice.csv", ";"), dtype=float)
    mode = np.eye(4)[a[:, 1].astype(int) - 1]
    return np.hstack([mode, a[:, 3:]]), a[:, 2].astype(int), "classify"

GRETL = "/usr/share/gretl/data/misc"
VEGA = "/usr/lib/python3/dist-packages/vega_datasets/_data"

def gretl(name, need=None):
    """A gretl data file (XML, maybe gzipped) as {variable: column}; rows with NA dropped (NA in
    the variables of need only, when given; the other columns then hold NaN there)."""
    import xml.etree.ElementTree as ET
    path = os.path.join(GRETL, name + ".gdt")
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    root = ET.fromstring(raw)
    names = [v.get("name") for v in root.iter("variable")]
    rows = [o.text.split() for o in root.iter("obs")]
    at = [names.index(n) for n in need] if need else range(len(names))
    rows = [r for r in rows if len(r) == len(names) and all(r[i] != "NA" for i in at)]
    a = np.array([[np.nan if v == "NA" else float(v) for v in r] for r in rows], dtype=float)
    return {n: a[:, i] for i, n in enumerate(names)}

def cols(d, names):
    return np.stack([d[n] for n in names], axis=1)

def cars():
    """Auto MPG: miles per gallon from cylinders, size, power, weight, acceleration, year, origin."""
    import json
    with open(os.path.join(VEGA, "cars.json")) as f:
        rows = json.load(f)
    keys = ["Cylinders", "Displacement", "Horsepower", "Weight_in_lbs", "Acceleration"]
    x, y = [], []
    for r in rows:
        if r["Miles_per_Gallon"] is None or any(r[k] is None for k in keys):
            continue
        x.append([float(r[k]) for k in keys] + [float(r["Year"][:4]),
                 float(r["Origin"] == "USA"), float(r["Origin"] == "Europe")])
        y.append(float(r["Miles_per_Gallon"]))
    return np.array(x)[:, :7], np.array(y), "regress"

def bikes():
    """Daily bicycle hires from season, calendar and weather (not the casual/registered split)."""
    d = gretl("bikesharing")
    season = np.eye(4)[d["season"].astype(int) - 1]
    x = np.hstack([season[:, 1:], cols(d, ["holiday", "workingday", "weathersit", "temp",
                                           "atemp", "hum", "windspeed"])])
    return x, d["cnt"], "regress"

def galton():
    d = gretl("galton")
    return d["parent"][:, None], d["child"], "regress"

def mroz():
    """Labour-force participation, without the hours and wages that reveal it."""
    d = gretl("mroz87")
    keep = ["KL6", "K618", "WA", "WE", "HHRS", "HA", "HE", "HW", "FAMINC", "MTR", "WMED",
            "WFED", "UN", "CIT"]
    return cols(d, keep), d["LFP"].astype(int), "classify"

def recid():
    """Re-arrest (not censored) from the prisoner's record, without the duration."""
    d = gretl("recid")
    keep = ["black", "alcohol", "drugs", "super", "married", "felon", "workprg", "property",
            "person", "priors", "educ", "rules", "age", "tserved", "follow"]
    return cols(d, keep), (1 - d["cens"]).astype(int), "classify"

# The second held-out round (issue 13): chosen, written and run once with the shipped default,
# nothing changed after; the README gives the result as it came.
def homes():
    """A house's sale price ($1000s, two Californian towns) from size, rooms, garage, age, town."""
    d = gretl("../ramanathan/data7-24")
    return cols(d, ["sqft", "bedrms", "baths", "garage", "age", "city"]), d["salepric"], "regress"

def profsal():
    """A professor's salary ($1000s) from years since the PhD and the university (7 of them)."""
    d = gretl("../ramanathan/data7-7")
    return cols(d, ["years", "d1", "d2", "d3", "d4", "d5", "d6"]), d["salary"], "regress"

def colgpa():
    """First-year college GPA from high-school GPA, SAT scores, major, campus, school type."""
    d = gretl("../ramanathan/data7-9")
    keep = ["hsgpa", "vsat", "msat", "dsci", "dsoc", "dhum", "darts", "dcam", "dpub"]
    return cols(d, keep), d["colgpa"], "regress"

def wages():
    """A young man's log wage (Griliches 1976) from schooling, IQ, experience, background."""
    d = gretl("griliches")
    keep = ["rns", "mrt", "smsa", "med", "iq", "kww", "year", "age", "s", "expr", "tenure"]
    return cols(d, keep), d["lw"], "regress"

def nccrime():
    """Crimes per person in a North Carolina county-year from 29 levels (not the logs)."""
    d = gretl("nc_crime")
    keep = ["prbarr", "prbconv", "prbpris", "avgsen", "polpc", "density", "taxpc", "west",
            "central", "urban", "pctmin80", "wcon", "wtuc", "wtrd", "wfir", "wser", "wmfg",
            "wfed", "wsta", "wloc", "mix", "pctymle", "d82", "d83", "d84", "d85", "d86", "d87"]
    return cols(d, keep), d["crmrte"], "regress"

def ucomp():
    """Unemployment compensation received ($, 1982; many zeros) from hours out of work, income,
    schooling and household."""
    d = gretl("../ramanathan/data7-13")
    keep = ["UHOURS", "HEADY", "SPOUSEY", "EDUC", "MALE", "MARRIED", "FAMSIZE", "WHITE"]
    return cols(d, keep), d["UCOMP"], "regress"

def doctor():
    """Doctor visits in two weeks (a count, mostly 0; Australia 1977-78) from health, insurance,
    age and income; 600 of 5190 rows (seeded)."""
    d = gretl("rac3d")
    keep = ["SEX", "AGE", "AGESQ", "INCOME", "LEVYPLUS", "FREEPOOR", "FREEREPA", "ILLNESS",
            "ACTDAYS", "HSCORE", "CHCOND1", "CHCOND2"]
    a = sample(np.hstack([cols(d, keep), d["DVISITS"][:, None]]), 600)
    return a[:, :-1], a[:, -1], "regress"

def cardhldr():
    """Whether a credit card application was accepted (Greene) from derogatory reports, age,
    income, home ownership, self-employment (not the spending, which is 0 for the refused)."""
    d = gretl("../greene/greene25_1")
    keep = ["majordrg", "age", "income", "ownrent", "selfempl"]
    return cols(d, keep), d["cardhldr"].astype(int), "classify"

def wtp():
    """Answers to two bids in a willingness-to-pay survey (4 classes) from bid, age, sex, income."""
    d = gretl("wtp")
    return cols(d, ["bid1", "age", "female", "income"]), d["depvar"].astype(int) - 1, "classify"

def union():
    """Union membership (one man-year; no lagged membership) from race, marriage, schooling,
    year; 1000 of 4360 rows (seeded)."""
    d = gretl("union_wooldridge")
    keep = ["black", "married", "educ", "d81", "d82", "d83", "d84", "d85", "d86", "d87"]
    a = sample(np.hstack([cols(d, keep), d["union"][:, None]]), 1000)
    return a[:, :-1], a[:, -1].astype(int), "classify"

def pension():
    """How a pension is invested (mostly bonds, mixed, mostly stocks) from the plan, family,
    income band, wealth and other savings."""
    d = gretl("pension")
    keep = ["prftshr", "choice", "female", "married", "age", "educ", "finc25", "finc35",
            "finc50", "finc75", "finc100", "finc101", "wealth89", "black", "stckin89",
            "irain89"]
    return cols(d, keep), (d["pctstck"] / 50).astype(int), "classify"

# The third held-out round: chosen and written before any run on them, run once with the
# shipped default; nothing changed after.
def banks():
    """An Italian bank's variable costs from its two outputs and three input prices (1991)."""
    d = gretl("banks91")
    return cols(d, ["Q1", "Q2", "P1", "P2", "P3"]), d["VC"], "regress"

def abemp():
    """A UK company's employment from its wage, capital, its industry's output and the year
    (Arellano-Bond, levels); 600 of 1031 rows (seeded)."""
    d = gretl("abdata")
    a = sample(np.hstack([cols(d, ["WAGE", "CAP", "INDOUTPT", "YEAR"]), d["EMP"][:, None]]), 600)
    return a[:, :-1], a[:, -1], "regress"

def celgdp():
    """A country's real GDP per capita from its investment share, population growth and the
    year (Caselli, Esquivel and Lefort; no country identity)."""
    d = gretl("CEL")
    return cols(d, ["s", "n", "year"]), d["y"], "regress"

RWM = ["female", "age", "hhninc", "hhkids", "educ", "married", "working", "handdum", "handper"]

def hsat():
    """Health satisfaction (0-10, German panel) from sex, age, income, children, schooling,
    marriage, work and handicap; 600 of the person-years (seeded)."""
    d = gretl("rwm", RWM + ["hsat"])
    a = sample(np.hstack([cols(d, RWM), d["hsat"][:, None]]), 600)
    return a[:, :-1], a[:, -1], "regress"

KEANE = ["educ", "expwc", "expbc", "expser", "black", "year"]

def kwage():
    """A young man's annual wage (1987 $, employed years only) from schooling, experience by
    occupation, race, year and manufacturing (Keane and Wolpin); 600 rows (seeded)."""
    d = gretl("keane", KEANE + ["manuf", "wage"])
    a = sample(np.hstack([cols(d, KEANE + ["manuf"]), d["wage"][:, None]]), 600)
    return a[:, :-1], a[:, -1], "regress"

def kstatus():
    """School, home or work (3 classes) from schooling, experience by occupation, race and year
    (Keane and Wolpin); 1000 of 12723 rows (seeded)."""
    d = gretl("keane", KEANE + ["status"])
    a = sample(np.hstack([cols(d, KEANE), d["status"][:, None]]), 1000)
    return a[:, :-1], a[:, -1].astype(int) - 1, "classify"

def weather():
    """Seattle's weather of a day (drizzle, fog, rain, snow, sun) from precipitation, the
    highest and lowest temperature, wind and the month; 1000 of 1461 days (seeded)."""
    kinds = ["drizzle", "fog", "rain", "snow", "sun"]
    with open(os.path.join(VEGA, "seattle-weather.csv")) as f:
        rows = list(csv.DictReader(f))
    a = np.array([[float(r["precipitation"]), float(r["temp_max"]), float(r["temp_min"]),
                   float(r["wind"]), float(r["date"][5:7]), kinds.index(r["weather"])]
                  for r in rows])
    a = sample(a, 1000)
    return a[:, :-1], a[:, -1].astype(int), "classify"

def public():
    """Public health insurance (German panel) from sex, age, income, children, schooling,
    marriage, work and occupation; 1000 of the person-years (seeded)."""
    keep = RWM[:7] + ["bluec", "whitec", "self", "beamt"]
    d = gretl("rwm", keep + ["public"])
    a = sample(np.hstack([cols(d, keep), d["public"][:, None]]), 1000)
    return a[:, :-1], a[:, -1].astype(int), "classify"

# The fourth held-out round: chosen and written before any run on them, run once with the
# shipped default; nothing changed after.
SMT = os.path.join(SM, "..")

def sm_dicts(rel):
    with open(os.path.join(SMT, rel)) as f:
        return list(csv.DictReader(f))

AUTOS = ["wb", "length", "width", "height", "weight", "eng_cc", "bore", "stroke", "comp.ratio",
         "hp", "rpm", "city_mpg", "hw_mpg"]

def autoprice():
    """A 1985 car's list price ($) from its dimensions, weight, engine, power and fuel economy,
    diesel and turbo (UCI Automobile, as statsmodels' GAM tests ship it); rows without a price
    or an engine figure dropped."""
    x, y = [], []
    for r in sm_dicts("gam/tests/results/autos.csv"):
        if r["price"] in ("", "NA") or any(r[k] in ("", "NA") for k in AUTOS):
            continue
        x.append([float(r[k]) for k in AUTOS] + [float(r["fuel"] == "diesel"),
                                                 float(r["aspir"] == "turbo")])
        y.append(float(r["price"]))
    return np.array(x), np.array(y), "regress"

def bcdeaths():
    """Breast-cancer deaths in a US county from its population (Rice; heavy-tailed, one input)."""
    a = np.array(sm_rows("cancer/cancer.csv"), dtype=float)
    return a[:, 1:], a[:, 0], "regress"

def lowbw():
    """A birth weight under 2.5 kg from the mother's age, weight, race, smoking, premature
    labours, hypertension, uterine irritability and doctor visits (Hosmer and Lemeshow; not the
    weight itself)."""
    x, y = [], []
    for r in sm_dicts("genmod/tests/results/stata_lbw_glm.csv"):
        x.append([float(r["age"]), float(r["lwt"]), float(r["race"] == "black"),
                  float(r["race"] == "other"), float(r["smoke"]), float(r["ptl"]),
                  float(r["ht"]), float(r["ui"]), float(r["ftv"])])
        y.append(int(r["low"]))
    return np.array(x), np.array(y), "classify"

def eload():
    """An electric company's hourly load (megawatts, US Northwest, January 1992) from the
    temperature, the hour, the day of the month and whether it is a weekend."""
    d = gretl("../ramanathan/data10-2")
    day = np.floor(d["day_hour"] + 1e-9)
    hour = np.round(100 * (d["day_hour"] - day)) - 1
    weekend = ((day - 1 + 2) % 7 >= 5).astype(float)  # 1 January 1992 was a Wednesday
    return np.stack([d["temp"], hour, day, weekend], axis=1), d["load"], "regress"

def carspend():
    """US monthly spending on new cars (billions of 1982 $) from population, income, six price
    indices, credit, interest, public transport and unemployment (collinear series)."""
    d = gretl("../ramanathan/data9-12")
    keep = ["pop", "pcdpy", "cpinew", "cpiall", "cpiused", "cpigas", "cpiinsur", "repair",
            "credit", "primert", "pubtrans", "unemprt"]
    return cols(d, keep), d["pcecars"], "regress"

def gdpgrowth():
    """US quarterly GDP growth (100 x log difference) from the growth of payrolls and of
    industrial production in each month of the quarter (noisy)."""
    d = gretl("gdp_midas")
    keep = ["ld_payems_m1", "ld_payems_m2", "ld_payems_m3", "ld_indpro_m1", "ld_indpro_m2",
            "ld_indpro_m3"]
    return cols(d, keep), d["ld_qgdp"], "regress"

def affairs():
    """Any extramarital affair in the past year (Fair 1977, Psychology Today) from sex, age,
    years married, children, religiousness, schooling, occupation and the marriage's rating."""
    d = gretl("../greene/greene22_2")
    return cols(d, ["Z%d" % i for i in range(1, 9)]), (d["Y"] > 0).astype(int), "classify"

REGIONS = {0: "CT ME MA NH RI VT NJ NY PA", 1: "IL IN MI OH WI IA KS MN MO NE ND SD",
           2: "DE FL GA MD NC SC VA DC WV AL KY MS TN AR LA OK TX",
           3: "AZ CO ID MT NV NM UT WY AK CA HI OR WA"}

def region():
    """A US airport's census region (northeast, midwest, south, west) from its latitude and
    longitude; the fifty states and DC only, 1000 of 3340 airports (seeded)."""
    of = {st: k for k, v in REGIONS.items() for st in v.split()}
    with open(os.path.join(VEGA, "airports.csv")) as f:
        rows = [r for r in csv.DictReader(f) if r["country"] == "USA" and r["state"] in of]
    a = np.array([[float(r["latitude"]), float(r["longitude"]), of[r["state"]]] for r in rows])
    a = sample(a, 1000)
    return a[:, :-1], a[:, -1].astype(int), "classify"

# A fifth held-out round: chosen and written before any run on them, run once with the shipped
# default; nothing changed after.
def sm_test(rel):
    """A CSV statsmodels ships as test data, as dicts with the row-name column dropped."""
    rows = sm_dicts(rel)
    for r in rows:
        r.pop("", None)
    return rows

def pigweight():
    """A pig's weight (kg) from its cumulative feed (kg), its week on the trial and its vitamin E
    and copper doses (levels 1-3; Lauridsen et al. 1999, the dietox data); rows without feed
    dropped; the pig and its litter (identifiers) are not inputs."""
    with open(os.path.join(SMT, "regression/tests/results/dietox.csv")) as f:
        rows = list(csv.reader(f))
    # R's write.csv without a name for the row-name column: each row has one cell more
    rows = [dict(zip(rows[0], r[1:])) for r in rows[1:] if r]
    x, y = [], []
    for r in rows:
        if "NA" in (r["Feed"], r["Weight"]):
            continue
        x.append([float(r[k]) for k in ("Feed", "Time", "Evit", "Cu")])
        y.append(float(r["Weight"]))
    return np.array(x), np.array(y), "regress"

def seizures():
    """Epileptic seizures in a two-week period from the drug (progabide or placebo), the
    baseline count over eight weeks, the age, the period and whether it is the fourth (Thall and
    Vail 1990); a count."""
    x, y = [], []
    for r in sm_test("genmod/tests/results/epil.csv"):
        x.append([float(r["trt"] == "progabide"), float(r["base"]), float(r["age"]),
                  float(r["period"]), float(r["V4"])])
        y.append(float(r["y"]))
    return np.array(x), np.array(y), "regress"

MEPS = ["age", "educyr", "income", "female", "totchr", "phylim", "actlim", "offer", "ssiratio"]

def meps():
    return sm_test("sandbox/regression/tests/racd10data_with_transformed.csv")

def docvis():
    """Doctor visits in a year of Medicare patients over 65 (MEPS 2003) from age, schooling,
    income, sex, chronic conditions, limitations, insurance and an employer's offer;
    heavy-tailed; 600 of 3629 rows (seeded)."""
    rows = meps()
    x = [[float(r[k]) for k in MEPS] + [float(r["private"]), float(r["medicaid"])] for r in rows]
    a = sample(np.hstack([np.array(x), [[float(r["docvis"])] for r in rows]]), 600)
    return a[:, :-1], a[:, -1], "regress"

def privins():
    """Private supplementary health insurance (MEPS 2003, over 65) from age, schooling, income,
    sex, chronic conditions, limitations, an employer's offer and the SSI ratio; 1000 of 3629
    rows (seeded)."""
    rows = meps()
    a = np.array([[float(r[k]) for k in MEPS] + [float(r["private"])] for r in rows])
    a = sample(a, 1000)
    return a[:, :-1], a[:, -1].astype(int), "classify"

def seatemp():
    """Seattle's hourly temperature (F) in 2010 from the hour of the day and the day of the
    year; 1000 of 8758 hours (seeded)."""
    x, y = [], []
    with open(os.path.join(VEGA, "seattle-temps.csv")) as f:
        for r in csv.DictReader(f):
            date, time = r["date"].split()
            yy, mm, dd = (int(v) for v in date.split("/"))
            day = (np.datetime64(f"{yy:04d}-{mm:02d}-{dd:02d}") - np.datetime64(f"{yy:04d}-01-01"))
            x.append([float(time.split(":")[0]), float(day.astype(int))])
            y.append(float(r["temp"]))
    a = sample(np.hstack([np.array(x), np.array(y)[:, None]]), 1000)
    return a[:, :-1], a[:, -1], "regress"

def origin():
    """A car's origin (USA, Europe, Japan) from its miles per gallon, cylinders, displacement,
    horsepower, weight and model year (1970-82); rows with a missing figure dropped."""
    import json
    with open(os.path.join(VEGA, "cars.json")) as f:
        cars_ = json.load(f)
    keys = ["Miles_per_Gallon", "Cylinders", "Displacement", "Horsepower", "Weight_in_lbs"]
    of = {"USA": 0, "Europe": 1, "Japan": 2}
    x, y = [], []
    for c in cars_:
        if any(c[k] is None for k in keys):
            continue
        x.append([float(c[k]) for k in keys] + [float(c["Year"][:4])])
        y.append(of[c["Origin"]])
    return np.array(x), np.array(y), "classify"

EDUC = {"less than high school": 0, "high school": 1, "some college": 2,
        "bachelor's degree or higher": 3}
ANX = {"not anxious at all": 0, "a little anxious": 1, "somewhat anxious": 2, "very anxious": 3}
ENGLISH = {"Strongly Oppose": 0, "Oppose": 1, "Favor": 2, "Strongly Favor": 3}

def congmesg():
    """Whether a subject of a framing experiment on immigration sent a message to Congress
    (Brader, Valentino and Suhay 2008) from age, schooling, sex, income, emotion, perceived harm,
    the story's tone and ethnicity cue, anxiety, and views on English and immigration."""
    x, y = [], []
    for r in sm_test("stats/tests/results/framing.csv"):
        x.append([float(r["age"]), EDUC[r["educ"]], float(r["gender"] == "female"),
                  float(r["income"]), float(r["emo"]), float(r["p_harm"]), float(r["tone"]),
                  float(r["eth"]), ANX[r["anx"]], ENGLISH[r["english"]], float(r["immigr"])])
        y.append(int(r["cong_mesg"]))
    return np.array(x, dtype=float), np.array(y), "classify"

# A sixth held-out round: chosen and written before any run on them, run once with the shipped
# default; nothing changed after. Read from the R packages Debian ships (r-cran-mlbench,
# r-cran-mass; quakes: r-base-core's datasets) through Rscript.
RSCRIPT = "/usr/bin/Rscript"

def r_rows(name, package, quote=False):
    """An R data set as dicts of strings (factors as their labels, NA as "NA"). quote: R quotes
    its strings, for sets whose labels hold commas."""
    import subprocess
    out = subprocess.run(
        [RSCRIPT, "--vanilla", "-e",
         f"data({name}, package = '{package}'); "
         f"write.table({name}, stdout(), sep = ',', row.names = FALSE, "
         f"quote = {'TRUE' if quote else 'FALSE'})"],
        check=True, capture_output=True, text=True).stdout
    return list(csv.DictReader(out.splitlines()))

def r_have(*packages):
    """Whether Rscript runs and finds every package, wherever R's library path puts it."""
    import subprocess
    if not os.path.isfile(RSCRIPT):
        return False
    test = " && ".join(f"requireNamespace('{p}', quietly = TRUE)" for p in packages)
    return subprocess.run([RSCRIPT, "--vanilla", "-e", f"quit(status = !({test}))"],
                          capture_output=True).returncode == 0

R_ROUND = r_have("MASS", "mlbench")

def complete(rows, keys):
    return [r for r in rows if all(r[k] != "NA" for k in keys)]


def r_quoted_rows(name, package):
    """r_rows with R quoting its strings: the later rounds' reader (their labels may hold
    commas)."""
    return r_rows(name, package, quote=True)


def onehot(r, key, levels):
    """0/1 columns for R's factor key of row r, one per level named (a factor of k levels
    takes k - 1, its first level none of them, or all k)."""
    return [float(r[key] == v) for v in levels]


def r_round_main(sets, packages):
    """The main of an R round's script: its arguments, the R packages it reads (refused
    naming their Debian packages when one is missing), and its sets written."""
    a, only = parse_args(sets)
    if not r_have(*packages):
        debs = [f"r-cran-{p.lower()}" for p in packages]
        sys.exit("needs Rscript with " + ", ".join(debs[:-1]) + (" and " if len(debs) > 1
                                                                  else "") + debs[-1])
    os.makedirs(a.outdir, exist_ok=True)
    write_sets(sets, a.outdir, a.train, a.splits, only)


def floats(rows, keys):
    """The columns keys of R's rows (dicts of text) as an array of floats."""
    return np.array([[float(r[k]) for k in keys] for r in rows])

def cpus():
    """A computer's published relative performance from its cycle time, minimum and maximum
    main memory, cache and minimum and maximum channels (Ein-Dor and Feldmesser 1987; MASS);
    heavy-tailed. The published estimate (estperf) is not an input."""
    keys = ["syct", "mmin", "mmax", "cach", "chmin", "chmax"]
    rows = r_rows("cpus", "MASS")
    return (np.array([[float(r[k]) for k in keys] for r in rows]),
            np.array([float(r["perf"]) for r in rows]), "regress")

def ozone():
    """Los Angeles' daily maximum one-hour ozone (ppm) in 1976 from the month and nine weather
    readings (mlbench's Ozone: pressure height, wind, humidity, two temperatures, inversion
    height, pressure gradient, inversion temperature, visibility); days with a missing reading
    dropped; the day of the month and of the week are not inputs."""
    keys = ["V1"] + [f"V{i}" for i in range(5, 14)]
    rows = complete(r_rows("Ozone", "mlbench"), keys + ["V4"])
    return (np.array([[float(r[k]) for k in keys] for r in rows]),
            np.array([float(r["V4"]) for r in rows]), "regress")

def nlschools():
    """A Dutch eighth-grader's language test score from verbal IQ, class size, family
    socio-economic status and whether the class is multi-grade (Snijders and Bosker; MASS); the
    class (an identifier) is not an input; 600 of 2287 pupils (seeded)."""
    rows = r_rows("nlschools", "MASS")
    a = np.array([[float(r[k]) for k in ("IQ", "GS", "SES", "COMB", "lang")] for r in rows])
    a = sample(a, 600)
    return a[:, :-1], a[:, -1], "regress"

def servo():
    """A servo system's rise time from its motor and screw (five kinds each, one column a kind)
    and its two gain settings (mlbench's Servo; Quinlan 1993)."""
    x, y = [], []
    for r in r_rows("Servo", "mlbench"):
        x.append([float(r["Motor"] == m) for m in "ABCDE"] +
                 [float(r["Screw"] == m) for m in "ABCDE"] +
                 [float(r["Pgain"]), float(r["Vgain"])])
        y.append(float(r["Class"]))
    return np.array(x), np.array(y), "regress"

def quakes():
    """The Richter magnitude of an earthquake near Fiji from its latitude, longitude, depth and
    the number of stations that reported it (R's datasets; 1000 events since 1964)."""
    rows = r_rows("quakes", "datasets")
    return (np.array([[float(r[k]) for k in ("lat", "long", "depth", "stations")] for r in rows]),
            np.array([float(r["mag"]) for r in rows]), "regress")

def r_classes(rows, label, keys, labels=None):
    """Inputs keys; the classes numbered in labels' order (default: the labels sorted)."""
    order = labels or sorted({r[label] for r in rows})
    return (np.array([[float(r[k]) for k in keys] for r in rows]),
            np.array([order.index(r[label]) for r in rows]), "classify")

def sonar():
    """Whether a sonar return came from a metal cylinder or a rock, from 60 band energies
    (Gorman and Sejnowski 1988; mlbench)."""
    return r_classes(r_rows("Sonar", "mlbench"), "Class", [f"V{i}" for i in range(1, 61)])

def ionosphere():
    """Whether a radar return from the ionosphere is good or bad, from 34 pulse readings
    (Sigillito et al. 1989; mlbench); V2, 0 on every row, is left out."""
    keys = ["V1"] + [f"V{i}" for i in range(3, 35)]
    return r_classes(r_rows("Ionosphere", "mlbench"), "Class", keys)

def vehicle():
    """A vehicle's silhouette (bus, Opel, Saab, van) from 18 shape features (Siebert 1987;
    mlbench; 4 classes)."""
    rows = r_rows("Vehicle", "mlbench")
    keys = [k for k in rows[0] if k != "Class"]
    return r_classes(rows, "Class", keys)

def pima():
    """Diabetes in a Pima woman from pregnancies, glucose, blood pressure, skin fold, insulin,
    body mass, pedigree and age (mlbench's PimaIndiansDiabetes; zeros that stand for missing
    readings left as they are)."""
    rows = r_rows("PimaIndiansDiabetes", "mlbench")
    keys = [k for k in rows[0] if k != "diabetes"]
    return r_classes(rows, "diabetes", keys, ["neg", "pos"])

def glass():
    """A glass fragment's kind (six) from its refractive index and eight oxides (forensic
    glass; mlbench's Glass)."""
    rows = r_rows("Glass", "mlbench")
    keys = [k for k in rows[0] if k != "Type"]
    return r_classes(rows, "Type", keys, ["1", "2", "3", "5", "6", "7"])

def crabs():
    """A Leptograpsus crab's species (blue or orange) from its sex and five shell measurements
    (Campbell and Mahon 1974; MASS); the index within a group is not an input."""
    rows = r_rows("crabs", "MASS")
    for r in rows:
        r["male"] = "1" if r["sex"] == "M" else "0"
    return r_classes(rows, "sp", ["male", "FL", "RW", "CL", "CW", "BD"], ["B", "O"])

SETS = {"diabetes": diabetes, "boston": boston,
        "cancer": lambda: labelled("breast_cancer.csv"),
        "wine": lambda: labelled("wine_data.csv"),
        "iris": lambda: labelled("iris.csv"),
        "digits": digits}
if os.path.isdir(SM):
    SETS.update({"star98": star98, "grunfeld": grunfeld, "fair": fair, "randhie": randhie,
                 "anes96": anes96, "macrodata": macrodata, "engel": engel,
                 "sunspots": sunspots, "modechoice": modechoice})
if os.path.isdir(GRETL) and os.path.isdir(VEGA):
    SETS.update({"cars": cars, "bikes": bikes, "galton": galton, "mroz": mroz, "recid": recid})
if os.path.isdir(GRETL):
    SETS.update({"homes": homes, "profsal": profsal, "colgpa": colgpa, "wages": wages,
                 "nccrime": nccrime, "ucomp": ucomp, "doctor": doctor, "cardhldr": cardhldr,
                 "wtp": wtp, "union": union, "pension": pension})
    SETS.update({"banks": banks, "abemp": abemp, "celgdp": celgdp, "hsat": hsat,
                 "kwage": kwage, "kstatus": kstatus, "public": public})
if os.path.isdir(VEGA):
    SETS["weather"] = weather
if os.path.isdir(SM):
    SETS.update({"autoprice": autoprice, "bcdeaths": bcdeaths, "lowbw": lowbw})
if os.path.isdir(GRETL):
    SETS.update({"eload": eload, "carspend": carspend, "gdpgrowth": gdpgrowth,
                 "affairs": affairs})
if os.path.isdir(VEGA):
    SETS["region"] = region
if os.path.isdir(SM):
    SETS.update({"pigweight": pigweight, "seizures": seizures, "docvis": docvis})
if os.path.isdir(VEGA):
    SETS.update({"seatemp": seatemp, "origin": origin})
if os.path.isdir(SM):
    SETS.update({"privins": privins, "congmesg": congmesg})
if R_ROUND:
    SETS.update({"cpus": cpus, "ozone": ozone, "nlschools": nlschools, "servo": servo,
                 "quakes": quakes, "sonar": sonar, "ionosphere": ionosphere,
                 "vehicle": vehicle, "pima": pima, "glass": glass, "crabs": crabs})

def write_rows(path, x, y, classify):
    """An occam CSV: the inputs, then the target (a class as an integer)."""
    with open(path, "w") as f:
        for r, t in zip(x, y):
            f.write(",".join(repr(float(v)) for v in r) + "," +
                    (str(int(t)) if classify else repr(float(t))) + "\n")

# A test set of a few rows says nothing (star98 and sunspots at --train 300 kept 3).
MIN_TEST = 50

def parse_args(sets):
    """The command line of this script and perf/realdata_extra.py: the arguments, and the
    names --sets chose among sets (empty: all)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--train", type=int, default=100)
    ap.add_argument("--splits", type=int, default=3)
    ap.add_argument("--sets", default="", help="comma-separated names (default: all)")
    a = ap.parse_args()
    only = [n for n in a.sets.split(",") if n]
    unknown = [n for n in only if n not in sets]
    if unknown:
        sys.exit(f"unknown set(s): {', '.join(unknown)} (known: {', '.join(sets)})")
    return a, only


def main():
    a, only = parse_args(SETS)
    os.makedirs(a.outdir, exist_ok=True)
    if not os.path.isdir(SM):
        print("python3-statsmodels is not installed: star98, grunfeld, fair, randhie and "
              "anes96 are left out", file=sys.stderr)
    if not (os.path.isdir(GRETL) and os.path.isdir(VEGA)):
        print("gretl-data or python3-vega-datasets is not installed: cars, bikes, galton, "
              "mroz and recid are left out", file=sys.stderr)
    if not R_ROUND:
        print("r-cran-mass or r-cran-mlbench is not installed: the sixth round (cpus ... crabs) "
              "is left out", file=sys.stderr)
    write_sets(SETS, a.outdir, a.train, a.splits, only)


def write_sets(sets, outdir, train, splits, only):
    """Writes each set of sets (name -> loader) named in only (all when empty) as
    OUTDIR/NAME-sS-{train,test}.csv for S < splits (train rows by the seeded shuffle
    RandomState(1000 + S)), and the index OUTDIR/sets.txt; perf/realdata_extra.py shares it."""
    index = []
    for name, load in sets.items():
        if only and name not in only:
            continue
        x, y, task = load()
        if len(y) - train < MIN_TEST:
            print(f"{name}: left out, {len(y)} rows leave fewer than {MIN_TEST} test rows "
                  f"after --train {train}", file=sys.stderr)
            continue
        for s in range(splits):
            p = np.random.RandomState(1000 + s).permutation(len(y))
            for part, idx in (("train", p[:train]), ("test", p[train:])):
                write_rows(os.path.join(outdir, f"{name}-s{s}-{part}.csv"), x[idx], y[idx],
                           task == "classify")
        k = len(set(y.tolist())) if task == "classify" else 1
        print(f"{name} {task} features={x.shape[1]} rows={len(y)} outputs={k}")
        index.append(f"{name} {task} {x.shape[1]} {k}")
    with open(os.path.join(outdir, "sets.txt"), "w") as f:
        f.write("\n".join(index) + "\n")

if __name__ == "__main__":
    main()
