// The benchmark's model: an id and a title, as bench/app.py's Item.
module.exports = {
  attributes: {
    title: { type: "string" },
  },
};
