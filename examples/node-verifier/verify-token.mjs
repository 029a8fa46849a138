// Command line: node verify-token.mjs ISSUER AUDIENCE < token
// Prints the claims (JSON) and exits 0, or prints why the token was refused and exits 1.
import { createVerifier } from "./verifier.mjs";

const [issuer, audience] = process.argv.slice(2);
if (!issuer || !audience) {
  console.error("usage: node verify-token.mjs ISSUER AUDIENCE < token");
  process.exit(2);
}
let token = "";
for await (const chunk of process.stdin) token += chunk;

try {
  const verify = await createVerifier(issuer, audience);
  console.log(JSON.stringify(await verify(token.trim())));
} catch (e) {
  console.error(`refused: ${e.code ?? e.name}: ${e.message}`);
  process.exit(1);
}
