// The names serverless gives a function's resources, for the templates written as code.

/** A function's key as serverless normalizes it: "webhookTesting" -> "WebhookTesting" (its logical ids' stem). */
module.exports.normalizedName = (key) =>
  `${key[0].toUpperCase()}${key.slice(1).replace(/-/g, "Dash").replace(/_/g, "Underscore")}`;
