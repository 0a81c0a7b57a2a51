// Validates Kubernetes manifests (YAML documents on stdin) against the Kubernetes OpenAPI
// schema, offline, with the npm kubernetes-models package (tests/tools/k8s); prints one line
// per document, and exits 1 when one is invalid or of a kind it does not know.
import { createRequire } from "node:module";
import path from "node:path";

const tools = process.env.K8S_TOOLS;
const require = createRequire(path.join(tools, "package.json"));
const YAML = require("yaml");
const models = {
  "v1/Secret": () => import(path.join(tools, "node_modules/kubernetes-models/v1/Secret.js")),
  "v1/Service": () => import(path.join(tools, "node_modules/kubernetes-models/v1/Service.js")),
  "apps/v1/Deployment": () => import(path.join(tools, "node_modules/kubernetes-models/apps/v1/Deployment.js")),
  "batch/v1/Job": () => import(path.join(tools, "node_modules/kubernetes-models/batch/v1/Job.js")),
  "networking.k8s.io/v1/Ingress": () =>
    import(path.join(tools, "node_modules/kubernetes-models/networking.k8s.io/v1/Ingress.js")),
};

let input = "";
for await (const chunk of process.stdin) input += chunk;
let failed = false;
for (const document of YAML.parseAllDocuments(input)) {
  if (document.errors.length) {
    console.log(`YAML error: ${document.errors[0].message}`);
    failed = true;
    continue;
  }
  const object = document.toJS();
  const key = `${object.apiVersion}/${object.kind}`;
  const load = models[key];
  if (!load) {
    console.log(`${key}: unknown kind`);
    failed = true;
    continue;
  }
  const module = await load();
  const Model = module[object.kind];
  try {
    new Model(object).validate();
    console.log(`${key} ${object.metadata.name}: valid`);
  } catch (error) {
    console.log(`${key} ${object.metadata.name}: INVALID: ${error.message}`);
    failed = true;
  }
}
process.exitCode = failed ? 1 : 0;
