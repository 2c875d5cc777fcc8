import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Comparison,
  parseExperimentFilter,
  parseExperimentOrderBy,
  parseRunFilter,
  parseRunOrderBy,
} from "../../src/tracking/search-filter.js";

/** Assert that fn throws the invalidParam error, optionally with a message matching `pattern`. */
function expectInvalid(fn: () => unknown, pattern?: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, "expected an invalidParam error").toBeInstanceOf(Error);
  expect((caught as { code?: string }).code).toBe("INVALID_PARAMETER_VALUE");
  if (pattern) expect((caught as Error).message).toMatch(pattern);
}

const one = (filter: string): Comparison => {
  const parsed = parseRunFilter(filter);
  expect(parsed).toHaveLength(1);
  return parsed[0];
};

describe("parseRunFilter: basics", () => {
  it("returns [] for empty, blank, undefined and null filters", () => {
    expect(parseRunFilter("")).toEqual([]);
    expect(parseRunFilter("   \n\t")).toEqual([]);
    expect(parseRunFilter(undefined)).toEqual([]);
    expect(parseRunFilter(null)).toEqual([]);
  });

  it("parses a metric comparison", () => {
    expect(parseRunFilter("metrics.accuracy > 0.92")).toEqual([
      { type: "metric", key: "accuracy", comparator: ">", value: 0.92 },
    ]);
  });

  it("joins clauses with case-insensitive AND and flexible whitespace", () => {
    const f = "metrics.a>1 and params.p='x'   AND\ttags.t = 'y' aNd\nattributes.status='RUNNING'";
    expect(parseRunFilter(f)).toEqual([
      { type: "metric", key: "a", comparator: ">", value: 1 },
      { type: "param", key: "p", comparator: "=", value: "x" },
      { type: "tag", key: "t", comparator: "=", value: "y" },
      { type: "attribute", key: "status", comparator: "=", value: "RUNNING" },
    ]);
  });

  it("matches the MLflow docs example", () => {
    expect(parseRunFilter('params.model = "LogisticRegression" and params.lambda = "0.001" and metrics.error <= 0.05')).toEqual([
      { type: "param", key: "model", comparator: "=", value: "LogisticRegression" },
      { type: "param", key: "lambda", comparator: "=", value: "0.001" },
      { type: "metric", key: "error", comparator: "<=", value: 0.05 },
    ]);
  });
});

describe("parseRunFilter: identifiers", () => {
  it.each([
    ["metrics.k > 1", "metric"],
    ["metric.k > 1", "metric"],
    ["params.k = 'v'", "param"],
    ["param.k = 'v'", "param"],
    ["parameters.k = 'v'", "param"],
    ["parameter.k = 'v'", "param"],
    ["tags.k = 'v'", "tag"],
    ["tag.k = 'v'", "tag"],
  ])("%s → %s", (filter, type) => {
    expect(one(filter)).toMatchObject({ type, key: "k" });
  });

  it.each(["attributes", "attribute", "attr", "run"])("%s.status is an attribute", (prefix) => {
    expect(one(`${prefix}.status = 'FINISHED'`)).toEqual({
      type: "attribute",
      key: "status",
      comparator: "=",
      value: "FINISHED",
    });
  });

  it.each(["datasets", "dataset"])("%s.<field> is a dataset comparison", (prefix) => {
    for (const field of ["name", "digest", "context"]) {
      expect(one(`${prefix}.${field} = 'x'`)).toEqual({ type: "dataset", key: field, comparator: "=", value: "x" });
    }
  });

  it("takes everything after the first dot as the key", () => {
    expect(one("metrics.a.b > 1").key).toBe("a.b");
    expect(one("params.model/lr-rate = '1'").key).toBe("model/lr-rate");
  });

  it("accepts keys quoted with backticks or double quotes", () => {
    expect(one("metrics.`my key` > 1").key).toBe("my key");
    expect(one('params."a b" = \'x\'').key).toBe("a b");
    expect(one("tags.`mlflow.runName` = 'x'").key).toBe("mlflow.runName");
    expect(one('metrics."error rate" < 0.5').key).toBe("error rate");
    expect(one("params.`1st` = 'x'").key).toBe("1st");
  });

  it("accepts a backtick-quoted prefix", () => {
    expect(one("`metrics`.`a` > 1")).toMatchObject({ type: "metric", key: "a" });
  });

  it("accepts unicode keys", () => {
    expect(one("params.température = 'haute'").key).toBe("température");
  });

  it("normalises attribute aliases", () => {
    expect(one("attributes.created > 5").key).toBe("start_time");
    expect(one("attributes.Created > 5").key).toBe("start_time");
    expect(one("attributes.run_uuid = 'abc'").key).toBe("run_id");
    expect(one("attributes.`Run name` = 'abc'").key).toBe("run_name");
  });

  it("accepts every run attribute", () => {
    for (const a of ["run_name", "status", "user_id", "artifact_uri", "lifecycle_stage"]) {
      expect(one(`attributes.${a} LIKE 'x%'`)).toMatchObject({ type: "attribute", key: a });
    }
    expect(one("attributes.run_id = 'x'")).toMatchObject({ type: "attribute", key: "run_id" });
    for (const a of ["start_time", "end_time"]) {
      expect(one(`attributes.${a} >= 10`)).toEqual({ type: "attribute", key: a, comparator: ">=", value: 10 });
    }
  });

  it("rejects bare identifiers, unknown prefixes, unknown attributes and unknown dataset fields", () => {
    expectInvalid(() => parseRunFilter("accuracy > 1"), /accuracy/);
    expectInvalid(() => parseRunFilter("status = 'FAILED'"), /status/);
    expectInvalid(() => parseRunFilter("metricz.a > 1"), /metricz/);
    expectInvalid(() => parseRunFilter("Metrics.a > 1"), /Metrics/);
    expectInvalid(() => parseRunFilter("attributes.foo = 'x'"), /foo.*run_id/);
    expectInvalid(() => parseRunFilter("attributes.experiment_id = '1'"), /experiment_id/);
    expectInvalid(() => parseRunFilter("datasets.size = 'x'"), /size/);
    expectInvalid(() => parseRunFilter("metrics. > 1"), /key/);
    expectInvalid(() => parseRunFilter('metrics."" > 1'), /key/);
    expectInvalid(() => parseRunFilter("constructor.x = 'a'"), /constructor/);
    expectInvalid(() => parseRunFilter("attributes.__proto__ = 'a'"), /__proto__/);
    expectInvalid(() => parseRunFilter("'metrics.a' > 1"));
    expectInvalid(() => parseRunFilter("> 1"));
  });
});

describe("parseRunFilter: comparators", () => {
  it.each(["=", "!=", ">", ">=", "<", "<="])("metric comparator %s", (op) => {
    expect(one(`metrics.m ${op} 3`)).toEqual({ type: "metric", key: "m", comparator: op, value: 3 });
  });

  it.each(["=", "!=", "LIKE", "ILIKE"])("param/tag comparator %s", (op) => {
    expect(one(`params.p ${op} 'v'`)).toEqual({ type: "param", key: "p", comparator: op, value: "v" });
    expect(one(`tags.t ${op} 'v'`)).toEqual({ type: "tag", key: "t", comparator: op, value: "v" });
  });

  it("is case-insensitive for word comparators and normalises them to upper case", () => {
    expect(one("params.p like 'a%'").comparator).toBe("LIKE");
    expect(one("params.p iLike 'a%'").comparator).toBe("ILIKE");
    expect(one("attributes.run_id in ('a')").comparator).toBe("IN");
    expect(one("attributes.run_id not   in ('a')").comparator).toBe("NOT IN");
    expect(one("tags.t is null")).toEqual({ type: "tag", key: "t", comparator: "IS NULL", value: null });
    expect(one("tags.t Is Not  Null")).toEqual({ type: "tag", key: "t", comparator: "IS NOT NULL", value: null });
    expect(one("params.p IS NULL")).toEqual({ type: "param", key: "p", comparator: "IS NULL", value: null });
  });

  it("works without whitespace around symbolic comparators", () => {
    expect(parseRunFilter("metrics.a>=1 and params.b!='x'")).toEqual([
      { type: "metric", key: "a", comparator: ">=", value: 1 },
      { type: "param", key: "b", comparator: "!=", value: "x" },
    ]);
  });

  it("rejects unknown comparators", () => {
    for (const op of ["==", "=~", "<>", "=>", "!", "~", "EQUALS", "NOT LIKE", "IS", "IS NOT 'x'"]) {
      expectInvalid(() => parseRunFilter(`params.p ${op} 'x'`), /comparator/i);
    }
    expectInvalid(() => parseRunFilter("metrics.a"), /comparator/i);
    expectInvalid(() => parseRunFilter("metrics.a 1"), /comparator/i);
  });

  it("rejects comparators that do not fit the identifier type", () => {
    expectInvalid(() => parseRunFilter("metrics.a LIKE 'x'"), /LIKE/);
    expectInvalid(() => parseRunFilter("metrics.a IS NULL"), /IS NULL/);
    expectInvalid(() => parseRunFilter("metrics.a IN ('1')"), /IN/);
    expectInvalid(() => parseRunFilter("params.p > 'x'"), />/);
    expectInvalid(() => parseRunFilter("tags.t <= 'x'"), /<=/);
    expectInvalid(() => parseRunFilter("attributes.start_time LIKE '1%'"), /LIKE/);
    expectInvalid(() => parseRunFilter("attributes.status > 'x'"), />/);
    expectInvalid(() => parseRunFilter("attributes.run_id LIKE 'x%'"), /LIKE/);
    expectInvalid(() => parseRunFilter("attributes.status IS NULL"), /IS NULL/);
    expectInvalid(() => parseRunFilter("datasets.name > 'x'"), />/);
    expectInvalid(() => parseRunFilter("datasets.name IS NULL"), /IS NULL/);
  });
});

describe("parseRunFilter: values", () => {
  it.each([
    ["0", 0],
    ["42", 42],
    ["-1", -1],
    ["+2", 2],
    ["3.25", 3.25],
    ["-0.5", -0.5],
    [".5", 0.5],
    ["5.", 5],
    ["1e3", 1000],
    ["1E-3", 0.001],
    ["-2.5e+2", -250],
  ])("metric number literal %s", (literal, value) => {
    expect(one(`metrics.m >= ${literal}`).value).toBe(value);
  });

  it("rejects non-numeric metric and numeric-attribute values", () => {
    expectInvalid(() => parseRunFilter("metrics.m > 'x'"), /numeric/);
    expectInvalid(() => parseRunFilter('metrics.m > "1"'), /numeric/);
    expectInvalid(() => parseRunFilter("metrics.m > abc"), /abc/);
    expectInvalid(() => parseRunFilter("metrics.m > NaN"), /NaN/);
    expectInvalid(() => parseRunFilter("metrics.m > Infinity"), /Infinity/);
    expectInvalid(() => parseRunFilter("metrics.m > 1e999"), /range/);
    expectInvalid(() => parseRunFilter("metrics.m > 1.2.3"), /1\.2\.3/);
    expectInvalid(() => parseRunFilter("metrics.m > 12abc"), /12abc/);
    expectInvalid(() => parseRunFilter("metrics.m > - 1"));
    expectInvalid(() => parseRunFilter("attributes.start_time > '123'"), /numeric/);
  });

  it("accepts single- and double-quoted strings", () => {
    expect(one("params.p = 'single'").value).toBe("single");
    expect(one('params.p = "double"').value).toBe("double");
    expect(one("params.p = ''").value).toBe("");
    expect(one('params.p = "it\'s"').value).toBe("it's");
    expect(one("params.p = 'say \"hi\"'").value).toBe('say "hi"');
  });

  it("unescapes doubled quotes and backslash escapes", () => {
    expect(one("params.p = 'it''s'").value).toBe("it's");
    expect(one("params.p = ''''").value).toBe("'");
    expect(one("params.p = 'it\\'s'").value).toBe("it's");
    expect(one('params.p = "a\\"b"').value).toBe('a"b');
    expect(one('params.p = "a""b"').value).toBe('a"b');
    expect(one("params.p = 'back\\\\slash'").value).toBe("back\\slash");
    // Other backslash sequences are kept verbatim (e.g. escaped LIKE wildcards).
    expect(one("params.p LIKE 'a\\%b'").value).toBe("a\\%b");
  });

  it("keeps AND, OR, parentheses and comparators inside strings", () => {
    expect(parseRunFilter("params.a = 'x and y' and tags.b = 'p OR q'")).toEqual([
      { type: "param", key: "a", comparator: "=", value: "x and y" },
      { type: "tag", key: "b", comparator: "=", value: "p OR q" },
    ]);
    expect(one("params.a = '(a) >= b, c != d'").value).toBe("(a) >= b, c != d");
    expect(one("tags.`or` = 'x'").key).toBe("or");
    expect(one("params.or = 'x'").key).toBe("or");
  });

  it("rejects unquoted string values", () => {
    expectInvalid(() => parseRunFilter("params.p = value"), /quoted/);
    expectInvalid(() => parseRunFilter("params.p = 1"), /quoted/);
    expectInvalid(() => parseRunFilter("tags.t != abc"), /quoted/);
    expectInvalid(() => parseRunFilter("attributes.status = RUNNING"), /quoted/);
    expectInvalid(() => parseRunFilter("datasets.name = train"), /quoted/);
  });

  it("rejects unterminated quotes and missing values", () => {
    expectInvalid(() => parseRunFilter("params.p = 'abc"), /Unterminated/);
    expectInvalid(() => parseRunFilter('params.p = "abc'), /Unterminated/);
    expectInvalid(() => parseRunFilter("params.p = 'abc\\'"), /Unterminated/);
    expectInvalid(() => parseRunFilter("metrics.`abc > 1"), /Unterminated/);
    expectInvalid(() => parseRunFilter("params.p ="), /Missing value/);
    expectInvalid(() => parseRunFilter("metrics.m >   "), /Missing value/);
  });
});

describe("parseRunFilter: IN lists", () => {
  it("parses IN and NOT IN lists of quoted strings", () => {
    expect(one("attributes.run_id IN ('a', \"b\",'c')")).toEqual({
      type: "attribute",
      key: "run_id",
      comparator: "IN",
      value: ["a", "b", "c"],
    });
    expect(one("attributes.run_id NOT IN ( 'x' )").value).toEqual(["x"]);
    expect(one("datasets.digest IN ('d1', 'd2')")).toMatchObject({ type: "dataset", value: ["d1", "d2"] });
    expect(one("params.p IN ('a,b', 'c)')").value).toEqual(["a,b", "c)"]);
    expect(one("tags.t NOT IN ('x')").comparator).toBe("NOT IN");
    expect(one("attributes.status IN ('RUNNING','FAILED')").value).toEqual(["RUNNING", "FAILED"]);
  });

  it("rejects malformed lists", () => {
    expectInvalid(() => parseRunFilter("attributes.run_id IN ()"), /Empty/);
    expectInvalid(() => parseRunFilter("attributes.run_id IN (  )"), /Empty/);
    expectInvalid(() => parseRunFilter("attributes.run_id IN 'a'"), /parenthesised/);
    expectInvalid(() => parseRunFilter("attributes.run_id IN"), /parenthesised/);
    expectInvalid(() => parseRunFilter("attributes.run_id IN ('a',)"), /quoted/);
    expectInvalid(() => parseRunFilter("attributes.run_id IN ('a' 'b')"), /','/);
    expectInvalid(() => parseRunFilter("attributes.run_id IN ('a'"), /missing '\)'/);
    expectInvalid(() => parseRunFilter("attributes.run_id IN (a, b)"), /quoted/);
    expectInvalid(() => parseRunFilter("attributes.run_id IN (1, 2)"), /quoted/);
    expectInvalid(() => parseRunFilter("attributes.run_id IN ('a') )"), /Unexpected/);
  });
});

describe("parseRunFilter: structural rejections", () => {
  it("rejects OR anywhere outside strings", () => {
    expectInvalid(() => parseRunFilter("metrics.a > 1 OR metrics.b > 2"), /OR is not supported/);
    expectInvalid(() => parseRunFilter("metrics.a > 1 or metrics.b > 2"), /OR is not supported/);
    expectInvalid(() => parseRunFilter("params.a = 'x' Or params.b = 'y'"), /OR is not supported/);
    expectInvalid(() => parseRunFilter("(metrics.a > 1) or (metrics.b > 2)"), /OR is not supported/);
  });

  it("rejects trailing tokens, dangling AND and missing AND", () => {
    expectInvalid(() => parseRunFilter("metrics.a > 1 junk"), /junk/);
    expectInvalid(() => parseRunFilter("metrics.a > 1 metrics.b > 2"), /AND/);
    expectInvalid(() => parseRunFilter("metrics.a > 1 AND"), /after AND/);
    expectInvalid(() => parseRunFilter("metrics.a > 1 AND  "), /after AND/);
    expectInvalid(() => parseRunFilter("AND metrics.a > 1"));
    expectInvalid(() => parseRunFilter("metrics.a > 1 AND AND metrics.b > 1"));
    expectInvalid(() => parseRunFilter("metrics.a > 1 ANDmetrics.b > 1"));
    expectInvalid(() => parseRunFilter("metrics.a > 1 && metrics.b > 1"));
    expectInvalid(() => parseRunFilter("metrics.a > 1;"));
    expectInvalid(() => parseRunFilter("params.a = 'x' 'y'"));
    expectInvalid(() => parseRunFilter("(metrics.a > 1)"));
  });

  it("rejects non-string input at runtime", () => {
    expectInvalid(() => parseRunFilter(42 as unknown as string), /string/);
  });
});

describe("parseRunOrderBy", () => {
  it("parses prefixed identifiers with optional direction", () => {
    expect(parseRunOrderBy("metrics.rmse")).toEqual({ type: "metric", key: "rmse", ascending: true });
    expect(parseRunOrderBy("metrics.rmse DESC")).toEqual({ type: "metric", key: "rmse", ascending: false });
    expect(parseRunOrderBy("metric.`my key` asc")).toEqual({ type: "metric", key: "my key", ascending: true });
    expect(parseRunOrderBy('params."a b" desc')).toEqual({ type: "param", key: "a b", ascending: false });
    expect(parseRunOrderBy("tags.mlflow.runName Desc")).toEqual({ type: "tag", key: "mlflow.runName", ascending: false });
    expect(parseRunOrderBy("attributes.start_time DESC")).toEqual({
      type: "attribute",
      key: "start_time",
      ascending: false,
    });
    expect(parseRunOrderBy("  run.status   ASC  ")).toEqual({ type: "attribute", key: "status", ascending: true });
  });

  it("reads bare identifiers as attributes and normalises created", () => {
    expect(parseRunOrderBy("start_time DESC")).toEqual({ type: "attribute", key: "start_time", ascending: false });
    expect(parseRunOrderBy("run_name")).toEqual({ type: "attribute", key: "run_name", ascending: true });
    expect(parseRunOrderBy("Created")).toEqual({ type: "attribute", key: "start_time", ascending: true });
    expect(parseRunOrderBy("attr.created desc")).toEqual({ type: "attribute", key: "start_time", ascending: false });
    for (const a of ["run_id", "status", "user_id", "artifact_uri", "end_time", "experiment_id", "lifecycle_stage"]) {
      expect(parseRunOrderBy(a)).toEqual({ type: "attribute", key: a, ascending: true });
    }
  });

  it("rejects bad order_by clauses", () => {
    expectInvalid(() => parseRunOrderBy(""), /empty/);
    expectInvalid(() => parseRunOrderBy("   "), /empty/);
    expectInvalid(() => parseRunOrderBy("foo"), /foo/);
    expectInvalid(() => parseRunOrderBy("attributes.foo DESC"), /foo/);
    expectInvalid(() => parseRunOrderBy("datasets.name"), /dataset/);
    expectInvalid(() => parseRunOrderBy("metrics.a DESC x"), /"x"/);
    expectInvalid(() => parseRunOrderBy("metrics.a DOWN"), /ASC or DESC/);
    expectInvalid(() => parseRunOrderBy("metrics.a DESCENDING"), /ASC or DESC/);
    expectInvalid(() => parseRunOrderBy("metrics.a, metrics.b"));
    expectInvalid(() => parseRunOrderBy("metrics.`a"), /Unterminated/);
    expectInvalid(() => parseRunOrderBy("metrics."), /key/);
    expectInvalid(() => parseRunOrderBy("metricz.a"), /metricz/);
  });
});

describe("parseExperimentFilter", () => {
  it("parses name with and without attribute prefix", () => {
    for (const id of ["name", "attribute.name", "attributes.name", "attr.name"]) {
      expect(parseExperimentFilter(`${id} LIKE 'prod%'`)).toEqual([
        { type: "attribute", key: "name", comparator: "LIKE", value: "prod%" },
      ]);
    }
    for (const op of ["=", "!=", "ILIKE"]) {
      expect(parseExperimentFilter(`name ${op} 'x'`)[0].comparator).toBe(op);
    }
  });

  it("parses numeric time attributes", () => {
    expect(parseExperimentFilter("creation_time > 100 and attributes.last_update_time <= 2e3")).toEqual([
      { type: "attribute", key: "creation_time", comparator: ">", value: 100 },
      { type: "attribute", key: "last_update_time", comparator: "<=", value: 2000 },
    ]);
  });

  it("parses experiment_id with = and IN lists", () => {
    expect(parseExperimentFilter("experiment_id = '1'")[0]).toEqual({
      type: "attribute",
      key: "experiment_id",
      comparator: "=",
      value: "1",
    });
    expect(parseExperimentFilter("attribute.experiment_id NOT IN ('1', '2')")[0].value).toEqual(["1", "2"]);
  });

  it("parses tags including IS NULL", () => {
    expect(parseExperimentFilter("tags.team = 'ml' and tag.`owner name` ILIKE '%bob%' and tags.x IS NOT NULL")).toEqual([
      { type: "tag", key: "team", comparator: "=", value: "ml" },
      { type: "tag", key: "owner name", comparator: "ILIKE", value: "%bob%" },
      { type: "tag", key: "x", comparator: "IS NOT NULL", value: null },
    ]);
    expect(parseExperimentFilter("")).toEqual([]);
    expect(parseExperimentFilter(undefined)).toEqual([]);
  });

  it("rejects run-only identifiers and invalid comparisons", () => {
    expectInvalid(() => parseExperimentFilter("metrics.a > 1"), /metrics/);
    expectInvalid(() => parseExperimentFilter("params.a = 'x'"), /params/);
    expectInvalid(() => parseExperimentFilter("datasets.name = 'x'"), /datasets/);
    expectInvalid(() => parseExperimentFilter("status = 'x'"), /status/);
    expectInvalid(() => parseExperimentFilter("name = x"), /quoted/);
    expectInvalid(() => parseExperimentFilter("name > 'x'"), />/);
    expectInvalid(() => parseExperimentFilter("name IN ('a')"), /IN/);
    expectInvalid(() => parseExperimentFilter("creation_time > 'x'"), /numeric/);
    expectInvalid(() => parseExperimentFilter("experiment_id LIKE '1%'"), /LIKE/);
    expectInvalid(() => parseExperimentFilter("tags.t IN ('a')"), /IN/);
    expectInvalid(() => parseExperimentFilter("name = 'a' or name = 'b'"), /OR is not supported/);
  });
});

describe("parseExperimentOrderBy", () => {
  it("parses allowed keys with optional prefix and direction", () => {
    expect(parseExperimentOrderBy("name")).toEqual({ type: "attribute", key: "name", ascending: true });
    expect(parseExperimentOrderBy("attribute.creation_time DESC")).toEqual({
      type: "attribute",
      key: "creation_time",
      ascending: false,
    });
    expect(parseExperimentOrderBy("attributes.last_update_time asc")).toEqual({
      type: "attribute",
      key: "last_update_time",
      ascending: true,
    });
    expect(parseExperimentOrderBy("experiment_id desc")).toEqual({
      type: "attribute",
      key: "experiment_id",
      ascending: false,
    });
  });

  it("rejects everything else", () => {
    expectInvalid(() => parseExperimentOrderBy("tags.x"), /tags/);
    expectInvalid(() => parseExperimentOrderBy("metrics.a"), /metrics/);
    expectInvalid(() => parseExperimentOrderBy("start_time"), /start_time/);
    expectInvalid(() => parseExperimentOrderBy("name DESC name"));
    expectInvalid(() => parseExperimentOrderBy(""), /empty/);
  });
});

describe("robustness (property tests)", () => {
  const check = (fn: (s: string) => unknown) => (input: string) => {
    const t0 = performance.now();
    try {
      const result = fn(input);
      expect(result).toBeTypeOf("object");
    } catch (err) {
      expect((err as { code?: string }).code).toBe("INVALID_PARAMETER_VALUE");
    }
    expect(performance.now() - t0).toBeLessThan(250);
  };
  const fragments = fc.constantFrom(
    "metrics.a", "params.`k`", 'tags."t"', "attributes.run_id", "datasets.name", " ", " AND ", " and ",
    " OR ", "=", "!=", ">=", "<", "LIKE", "IN", "NOT IN", "IS NULL", "IS NOT NULL", "'x'", '"y"', "'", '"',
    "`", "\\", "(", ")", ",", "1", "-2.5e3", "NaN", "start_time", "DESC", "asc", ".",
  );
  const grammarish = fc.array(fragments, { maxLength: 30 }).map((parts) => parts.join(""));
  // fast-check 4 dropped fc.fullUnicodeString: unit "binary" is its replacement (any code point,
  // lone surrogates included).
  const inputs = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.string({ maxLength: 200, unit: "grapheme" }),
    fc.string({ maxLength: 200, unit: "binary" }),
    grammarish,
  );

  it("parseRunFilter returns an array or throws invalidParam", () => {
    fc.assert(fc.property(inputs, check(parseRunFilter)), { numRuns: 2000 });
  });

  it("the other parsers return a value or throw invalidParam", () => {
    fc.assert(fc.property(inputs, check(parseRunOrderBy)), { numRuns: 500 });
    fc.assert(fc.property(inputs, check(parseExperimentFilter)), { numRuns: 500 });
    fc.assert(fc.property(inputs, check(parseExperimentOrderBy)), { numRuns: 500 });
  });

  it("handles large adversarial inputs in linear time", () => {
    const big = [
      `${"metrics.a > 1 AND ".repeat(5000)}metrics.a > 1`,
      `params.p = '${"\\'".repeat(50000)}'`,
      `params.p = '${"''".repeat(50000)}'`,
      `attributes.run_id IN (${Array.from({ length: 20000 }, (_, i) => `'r${i}'`).join(", ")})`,
      "'".repeat(100000),
      "metrics.".repeat(20000),
      "1".repeat(100000),
      `metrics.a > ${"9".repeat(100000)}`,
      " ".repeat(100000),
      "(".repeat(100000),
    ];
    for (const input of big) {
      const t0 = performance.now();
      try {
        parseRunFilter(input);
      } catch (err) {
        expect((err as { code?: string }).code).toBe("INVALID_PARAMETER_VALUE");
      }
      expect(performance.now() - t0).toBeLessThan(2000);
    }
    expect(parseRunFilter(big[0])).toHaveLength(5001);
    expect(parseRunFilter(big[3])[0].value).toHaveLength(20000);
  });
});
