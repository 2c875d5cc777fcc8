/**
 * The MLmodel signature block, read without a YAML library: from files written the way MLflow writes them
 * (PyYAML safe_dump, long JSON strings folded over several lines), and from hand-made variants.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MlmodelError, parseMlmodelSignature } from "../../src/registry/mlmodel.js";

const mlmodel = (name: string) => readFileSync(join(import.meta.dirname, "../fixtures/mlmodel", name), "utf8");

describe("parseMlmodelSignature", () => {
  it("reads column specs, unfolding the lines PyYAML wrapped", () => {
    expect(parseMlmodelSignature(mlmodel("columns.MLmodel"))).toEqual({
      inputs: ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"].map((name) => ({
        name,
        dtype: "DOUBLE",
        datatype: "FP64",
        shape: [null],
        kind: "column",
        mlflow_type: "double",
        required: true,
      })),
      outputs: [{ name: null, dtype: "INT64", datatype: "INT64", shape: [null], kind: "column", mlflow_type: "long", required: true }],
    });
  });

  it("reads tensor specs (-1 as an unknown dimension) and params", () => {
    expect(parseMlmodelSignature(mlmodel("tensors.MLmodel"))).toEqual({
      inputs: [
        { name: "features", dtype: "FLOAT", datatype: "FP32", shape: [null, 4], mlflow_type: "float32" },
        { name: null, dtype: "INT64", datatype: "INT64", shape: [null], mlflow_type: "int64" },
      ],
      outputs: [{ name: null, dtype: "FLOAT", datatype: "FP32", shape: [null, 3], mlflow_type: "float32" }],
      params: [{ name: "temperature", type: "float", default: 0.7, shape: null }],
    });
  });

  it("keeps quotes and JSON escapes in names, and maps MLflow types ONNX lacks to upper-cased names", () => {
    const sig = parseMlmodelSignature(mlmodel("unicode-escaped.MLmodel"));
    expect(sig?.inputs).toEqual([
      { name: "café 'quoted' \"name\"", dtype: "STRING", datatype: "BYTES", shape: [null], kind: "column", mlflow_type: "string", required: true },
      { name: "日付", dtype: "DATETIME", datatype: null, shape: [null], kind: "column", mlflow_type: "datetime", required: false },
      { name: "blob", dtype: "STRING", datatype: "BYTES", shape: [null], kind: "column", mlflow_type: "binary", required: true },
    ]);
    expect(sig?.outputs).toEqual([{ name: "flag", dtype: "BOOL", datatype: "BOOL", shape: [null], kind: "column", mlflow_type: "boolean", required: true }]);
  });

  it("answers undefined for a model without a signature", () => {
    expect(parseMlmodelSignature(mlmodel("no-signature.MLmodel"))).toBeUndefined();
    expect(parseMlmodelSignature("artifact_path: model\nsignature: null\n")).toBeUndefined();
    expect(parseMlmodelSignature("artifact_path: model\nsignature:\nrun_id: x\n")).toBeUndefined();
    expect(parseMlmodelSignature("")).toBeUndefined();
    // A flavor's own `signature:` key is not the model's.
    expect(parseMlmodelSignature("flavors:\n  x:\n    signature: '[1]'\n")).toBeUndefined();
  });

  it("reads double-quoted and plain scalars, CRLF line ends, comments and a value on the next line", () => {
    const text = [
      "artifact_path: model",
      "signature:",
      "  # written by hand",
      '  inputs: "[{\\"type\\": \\"long\\", \\"name\\": \\"caf\\u00e9\\"}, {\\"type\\":',
      '    \\"str\\',
      '    ing\\"}]"',
      "  outputs:",
      "    '[{\"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"<f8\", \"shape\": [2]}}]'",
      "  params: ~",
      "utc_time_created: now",
    ].join("\r\n");
    expect(parseMlmodelSignature(text)).toEqual({
      inputs: [
        { name: "café", dtype: "INT64", datatype: "INT64", shape: [null], kind: "column", mlflow_type: "long" },
        { name: null, dtype: "STRING", datatype: "BYTES", shape: [null], kind: "column", mlflow_type: "string" },
      ],
      outputs: [{ name: null, dtype: "DOUBLE", datatype: "FP64", shape: [2], mlflow_type: "<f8" }],
    });
  });

  it("says what is wrong with a malformed signature", () => {
    const cases: [string, RegExp][] = [
      ["signature:\n  inputs: '[{\"type\": \"double\"}\n", /never ends/],
      ["signature:\n  inputs: '{\"type\": \"double\"}'\n", /not a JSON list/],
      ["signature:\n  inputs: '[not json]'\n", /not JSON/],
      ["signature:\n  inputs: '[{\"name\": \"x\"}]'\n", /no type/],
      ["signature:\n  inputs: '[{\"type\": \"tensor\"}]'\n", /tensor-spec/],
      ["signature:\n  inputs: '[3]'\n", /not an object/],
      ["signature:\n  inputs: |\n    [1]\n", /block scalar/],
      ["signature: {inputs: x}\n", /flow mapping/],
      ["signature:\n  inputs: '[]' trailing\n", /after the closing quote/],
      ["signature:\n  inputs: \"\\q\"\n", /invalid escape/],
      ["signature:\n    inputs: '[]'\n  outputs: '[]'\n", /indentation/],
    ];
    for (const [text, msg] of cases) {
      expect(() => parseMlmodelSignature(text), text).toThrow(MlmodelError);
      expect(() => parseMlmodelSignature(text), text).toThrow(msg);
    }
  });

  it("throws nothing but MlmodelError on arbitrary text under a signature key", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.string({ maxLength: 100 }), (a, b) => {
        for (const text of [`signature:\n  inputs: ${a}\n  outputs: '${b}'\n`, `signature:\n${a}`, `signature: ${a}\n${b}`]) {
          try {
            parseMlmodelSignature(text);
          } catch (err) {
            if (!(err instanceof MlmodelError)) throw err;
          }
        }
      }),
      { numRuns: 3000 },
    );
  });
});
