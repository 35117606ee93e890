// GET /echo?message=...: {"success": true, "message": ...}, as bench/app.py's /echo.
module.exports = function echo(req, res) {
  return res.json({ success: true, message: req.param("message") });
};
