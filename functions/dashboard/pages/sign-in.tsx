// The sign-in form: the API key goes in a POST body, once; the answer sets an HttpOnly session cookie.
import { Problem } from "./layout.tsx";

export function SignInPage({ error }: { error?: string }) {
  return (
    <section class="card narrow">
      <h1>Sign in</h1>
      <p>
        Use a key of this tetik: its <code>API_KEY</code>, or a <code>tk_</code> key made on the Keys page or with{" "}
        <code>POST /keys</code>. The dashboard then offers what the key's scopes allow. The key is exchanged for a
        session cookie and kept nowhere in the browser.
      </p>
      <Problem message={error} />
      <form method="post" action="/dashboard/sign-in">
        <label for="key">API key</label>
        <input id="key" name="key" type="password" autocomplete="current-password" required autofocus />
        <button type="submit" class="button primary">
          Sign in
        </button>
      </form>
    </section>
  );
}
