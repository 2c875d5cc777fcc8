import { Command, Option } from "commander";
import { withDirect } from "./direct.js";
import { dataOption, databaseUrlOption, intArg } from "./options.js";

/** `keel audit verify|list`: reads the database directly, so a verification does not trust a running server. */
export function auditCommand(): Command {
  const audit = new Command("audit").description("Check and read the tamper-evident audit trail (directly in the database)");
  audit
    .command("verify")
    .description("Re-hash the whole audit chain; exits 1 and names the first edited, reordered or deleted record")
    .addOption(dataOption())
    .addOption(databaseUrlOption())
    .option("--json", "print the result as JSON", false)
    .action(async (o: { data: string; databaseUrl?: string; json: boolean }) => {
      const { verifyChain } = await import("../governance/audit-chain.js");
      const result = await withDirect(o, (d) => verifyChain(d.database, (n) => process.stderr.isTTY && process.stderr.write(`\rchecked ${n} records`)));
      if (process.stderr.isTTY) process.stderr.write("\n");
      if (o.json) console.log(JSON.stringify(result));
      else if (result.ok) console.log(`Audit chain intact: ${result.checked} record(s) verified.`);
      else console.log(`Audit chain BROKEN at record ${result.problem?.seq}: ${result.problem?.reason}. ${result.checked} record(s) before it verified.`);
      if (!result.ok) process.exitCode = 1;
    });
  audit
    .command("list")
    .description("Print audit records in order, filtered")
    .addOption(dataOption())
    .addOption(databaseUrlOption())
    .option("--actor <name>")
    .option("--resource <resource>", "exact, or a prefix ending in * (experiment:*)")
    .option("--action <action>", "exact, or a prefix ending in * ('POST /runs/*')")
    .option("--since <iso-time>")
    .option("--until <iso-time>")
    .addOption(new Option("--limit <n>").default(100).argParser(intArg("--limit", 1, 1000)))
    .option("--after <seq>", "continue after this sequence number", "0")
    .option("--newest-first", "newest records first (continue with --before)", false)
    .addOption(new Option("--before <seq>", "with --newest-first: continue below this sequence number").argParser(intArg("--before", 1, Number.MAX_SAFE_INTEGER)))
    .option("--json", "one JSON record per line", false)
    .action(async (o) => {
      const { listAudit } = await import("../governance/audit-query.js");
      const time = (s?: string) => {
        if (s === undefined) return undefined;
        const t = Date.parse(s);
        if (Number.isNaN(t)) throw new Error(`not a date/time: '${s}' (use ISO 8601, e.g. 2026-12-01T00:00:00Z)`);
        return t;
      };
      const page = await withDirect(o, (d) =>
        listAudit(d.database, {
          actor: o.actor,
          resource: o.resource,
          action: o.action,
          since: time(o.since),
          until: time(o.until),
          after: Number(o.after),
          newestFirst: o.newestFirst,
          before: o.before,
          limit: o.limit,
        }),
      );
      for (const r of page.records) {
        if (o.json) console.log(JSON.stringify(r));
        else console.log(`${String(r.seq).padStart(6)}  ${new Date(r.time).toISOString()}  ${r.actor.padEnd(16)}  ${r.action}  ${r.resource}`);
      }
      if (page.next_after !== undefined && !o.json) console.error(`more: --after ${page.next_after}`);
      if (page.next_before !== undefined && !o.json) console.error(`more: --newest-first --before ${page.next_before}`);
    });
  return audit;
}
