import { randomInt } from "node:crypto";

// Runs created without a name get a readable one, as MLflow's do ("bold-owl-417").
const ADJECTIVES = ["able", "bold", "brave", "bright", "calm", "clever", "crisp", "eager", "fair", "gentle", "glad", "keen", "kind", "lucid", "merry", "neat", "quick", "sharp", "silent", "smart", "steady", "sunny", "swift", "tidy", "wise"];
const NOUNS = ["ant", "bass", "bear", "crane", "deer", "duck", "eel", "finch", "fox", "gnu", "hare", "hawk", "ibis", "koi", "lark", "lynx", "mole", "newt", "owl", "puma", "ram", "seal", "slug", "toad", "wolf", "yak"];

export function randomRunName(): string {
  return `${ADJECTIVES[randomInt(ADJECTIVES.length)]}-${NOUNS[randomInt(NOUNS.length)]}-${randomInt(1000)}`;
}
