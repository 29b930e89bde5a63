// What the widget keeps in localStorage: the visitor's ratings and demographics, per model URL.
// Unreadable or unfitting entries are dropped with a notice, never thrown; a full or disabled
// storage leaves them in the page only.

const RATINGS_PREFIX = "tanp-recommender:ratings:v1:";
const PROFILE_PREFIX = "tanp-recommender:profile:v1:";

function read(key) {
  try {
    return { raw: localStorage.getItem(key) };
  } catch {
    return { unavailable: true };
  }
}

function write(key, value) {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Storage full or disabled: the values still live in the page.
  }
}

/**
 * The saved ratings of the model at `modelUrl` that `fits(item, rating)` accepts, at most `max`:
 * `{ ratings: Map(item -> rating), notice, rewrite }` (`rewrite`: the saved copy should be
 * replaced by what was kept).
 */
export function loadRatings(modelUrl, fits, max) {
  const ratings = new Map();
  const { raw, unavailable } = read(RATINGS_PREFIX + modelUrl);
  if (unavailable) return { ratings, notice: "(Ratings cannot be saved in this browser.)", rewrite: false };
  if (raw === null || raw === undefined) return { ratings, notice: "", rewrite: false };
  try {
    const saved = JSON.parse(raw);
    if (!Array.isArray(saved)) throw new Error("not a list");
    let dropped = 0;
    for (const entry of saved) {
      const ok = entry && typeof entry.item === "string" && Number.isInteger(entry.rating) && fits(entry.item, entry.rating);
      if (ok && ratings.size < max) ratings.set(entry.item, entry.rating);
      else dropped++;
    }
    const notice = dropped ? `(${dropped} saved rating(s) did not fit this model or its limit of ${max} and were discarded.)` : "";
    return { ratings, notice, rewrite: dropped > 0 };
  } catch {
    return { ratings: new Map(), notice: "(Saved ratings were unreadable and have been discarded.)", rewrite: true };
  }
}

/** Saves the ratings ([{ item, rating }]) of the model at `modelUrl`. */
export function saveRatings(modelUrl, list) {
  write(RATINGS_PREFIX + modelUrl, list);
}

/**
 * The saved demographics of the model at `modelUrl` for its `fields` ([{ name, labels }]):
 * `{ profile: [value index per field, 0 = not given], notice, rewrite }`.
 */
export function loadProfile(modelUrl, fields) {
  const none = () => fields.map(() => 0);
  const { raw, unavailable } = read(PROFILE_PREFIX + modelUrl);
  if (unavailable || raw === null || raw === undefined) return { profile: none(), notice: "", rewrite: false };
  try {
    const saved = JSON.parse(raw);
    if (!saved || typeof saved !== "object" || Array.isArray(saved)) throw new Error("not an object");
    const profile = none();
    let dropped = 0;
    for (const [name, label] of Object.entries(saved)) {
      const i = fields.findIndex((f) => f.name === name);
      const v = i < 0 ? -1 : fields[i].labels.indexOf(label);
      if (v >= 0) profile[i] = v + 1;
      else dropped++;
    }
    const notice = dropped ? "(Saved details that do not fit this model were discarded.)" : "";
    return { profile, notice, rewrite: false };
  } catch {
    return { profile: none(), notice: "(Saved details were unreadable and have been discarded.)", rewrite: true };
  }
}

/** Saves the demographics ({ field: label }; empty: forgets them) of the model at `modelUrl`. */
export function saveProfile(modelUrl, values) {
  write(PROFILE_PREFIX + modelUrl, Object.keys(values).length ? values : null);
}
