-- bench/analytics: Q1-Q4 in SQL, for SQLite (sqlq.c) and DuckDB (duck.js),
-- which read this file: one query after each "-- name: FORMAT" line, FORMAT
-- one letter a column (t text, i integer, f number to 6 decimals). Date
-- functions differ between the dialects, so macros stand for them and each
-- program spells them out: MONTH_START(x) is the month of unix time x in
-- UTC as a grouping key, MONTH_LABEL(k) that key as 'YYYY-MM', YEAR_UTC(x)
-- the year of x in UTC. Q4's ? is the customer's crm. The definitions are
-- docs/metrics.md's: NPS = 100 (P - D) / N, CSAT% = 100 top2 / N, age =
-- year of the response - birth year.

-- q1: ttiiiif
-- NPS by channel by month, whole period
SELECT channel, MONTH_LABEL(m) AS month, count(*) AS n,
       sum(CASE WHEN score >= 9 THEN 1 ELSE 0 END) AS promoters,
       sum(CASE WHEN score BETWEEN 7 AND 8 THEN 1 ELSE 0 END) AS passives,
       sum(CASE WHEN score <= 6 THEN 1 ELSE 0 END) AS detractors,
       100.0 * (sum(CASE WHEN score >= 9 THEN 1 ELSE 0 END)
                - sum(CASE WHEN score <= 6 THEN 1 ELSE 0 END)) / count(*) AS nps
FROM (SELECT channel, MONTH_START(ts) AS m, score
      FROM feedback WHERE kind = 'nps') AS nps_answers
GROUP BY channel, m;

-- q2: tiiff
-- CSAT (top-two-box % and mean) by touchpoint, customers in the US aged 25-34
SELECT f.touchpoint, count(*) AS n,
       sum(CASE WHEN f.score >= 4 THEN 1 ELSE 0 END) AS satisfied,
       100.0 * sum(CASE WHEN f.score >= 4 THEN 1 ELSE 0 END) / count(*) AS csat,
       avg(f.score) AS mean
FROM feedback f JOIN customers c ON c.crm = f.crm
WHERE f.kind = 'csat' AND c.country = 'US'
  AND YEAR_UTC(f.ts) - c.birth_year BETWEEN 25 AND 34
GROUP BY f.touchpoint;

-- q3: ii
-- customers by their mean CSAT over the last 90 days, rounded half away
-- from zero (every mean is positive)
SELECT m AS csat_mean, count(*) AS customers
FROM (SELECT crm, CAST(round(avg(score)) AS INTEGER) AS m
      FROM feedback
      WHERE kind = 'csat' AND ts >= 1775088000
      GROUP BY crm) AS per_customer
GROUP BY m;

-- q4: iiiif
-- NPS of one customer
SELECT count(*) AS n,
       sum(CASE WHEN score >= 9 THEN 1 ELSE 0 END) AS promoters,
       sum(CASE WHEN score BETWEEN 7 AND 8 THEN 1 ELSE 0 END) AS passives,
       sum(CASE WHEN score <= 6 THEN 1 ELSE 0 END) AS detractors,
       100.0 * (sum(CASE WHEN score >= 9 THEN 1 ELSE 0 END)
                - sum(CASE WHEN score <= 6 THEN 1 ELSE 0 END)) / count(*) AS nps
FROM feedback
WHERE crm = ? AND kind = 'nps';
