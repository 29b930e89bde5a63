// The embedding example listens to the widget's results.
document.querySelector("tanp-recommender").addEventListener("tanp-recommendations", (e) => {
  const top = e.detail.items[0];
  document.getElementById("last").textContent =
    `The widget's top pick: ${top.title} (${top.score.toFixed(2)}), computed in ${e.detail.ms.toFixed(1)} ms.`;
});
