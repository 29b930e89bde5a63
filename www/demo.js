// ?backend=cpu|webgpu forces a backend; set before the element upgrades so it loads once.
const backend = new URLSearchParams(location.search).get("backend");
if (backend) document.getElementById("demo").setAttribute("backend", backend);
await import("./tanp-recommender.js");
