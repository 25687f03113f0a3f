// The console's entry: the session decides between the sign-in page and the signed-in layout
// (header, navigation with the live alert count, the page the location hash names).
import { html, render, useEffect, useState } from "./lib.js";
import { currentSession, onSession, signOut } from "./api.js";
import { go, href, useRoute } from "./router.js";
import { startAlertCount, useAlertCount } from "./live-alerts.js";
import { PageHeading } from "./ui.js";
import { SignInPage } from "./page-signin.js";
import { DevicesPage } from "./page-devices.js";
import { DevicePage } from "./page-device.js";
import { SensorPage } from "./page-sensor.js";
import { UsersPage } from "./page-users.js";
import { ConsumersPage, ConsumerPage } from "./page-consumers.js";
import { RulesPage } from "./page-rules.js";
import { DetectorsPage } from "./page-detectors.js";
import { AlertsPage } from "./page-alerts.js";

function Missing({ params, path }) {
  return html`<${PageHeading}>Page not found<//>
    <p>Nothing lives at <code>${path}</code>. <a href=${href("devices")}>Go to the devices</a>.</p>`;
}

const PAGES = {
  devices: DevicesPage, device: DevicePage, sensor: SensorPage, users: UsersPage,
  consumers: ConsumersPage, consumer: ConsumerPage, rules: RulesPage,
  detectors: DetectorsPage, alerts: AlertsPage,
};

function useSession() {
  const [session, setSession] = useState(currentSession());
  useEffect(() => onSession(setSession), []);
  return session;
}

function AlertBadge() {
  const alerts = useAlertCount();
  if (alerts.open === null) return alerts.error ? html`<span class="badge">count unavailable</span>` : null;
  const text = `${alerts.open}${alerts.more ? "+" : ""} open`;
  return html`<span class=${alerts.open ? "badge hot" : "badge"}>${text}</span>`;
}

function Nav({ route, admin }) {
  const links = [
    ["devices", "Devices", ["devices", "device", "sensor"]],
    ["alerts", "Alerts", ["alerts"]],
    ["rules", "Rules", ["rules"]],
    ["detectors", "Detectors", ["detectors"]],
    admin && ["consumers", "Consumers", ["consumers", "consumer"]],
    ["users", admin ? "Users" : "Account", ["users"]],
  ].filter(Boolean);
  return html`<nav aria-label="Main"><ul>
    ${links.map(([page, text, names]) => html`<li>
      <a href=${href(page)} aria-current=${names.includes(route.name) ? "page" : undefined}>
        ${text}${page === "alerts" && html` <${AlertBadge} />`}</a></li>`)}
  </ul></nav>`;
}

function skip(event) {
  event.preventDefault();
  document.getElementById("main").focus();
}

function App() {
  const session = useSession();
  const route = useRoute();
  useEffect(() => (session ? startAlertCount() : undefined), [session]);
  useEffect(() => { if (session && route.name === "signin") go("/devices"); }, [session, route.name]);
  if (!session) return html`<${SignInPage} />`;
  const Page = PAGES[route.name] || Missing;
  const user = session.user;
  return html`
    <a class="skip" href="#main" onClick=${skip}>Skip to content</a>
    <header class="top">
      <a class="brand" href=${href("devices")}>Stratus console</a>
      <${Nav} route=${route} admin=${user.role === "admin"} />
      <div class="who">
        <span>Signed in as <strong>${user.username}</strong> (${user.role})</span>
        <button type="button" onClick=${() => signOut()}>Sign out</button>
      </div>
    </header>
    <main id="main" tabindex="-1">
      <${Page} key=${route.path} params=${route.params} path=${route.path} session=${session} />
    </main>`;
}

const root = document.getElementById("app");
root.textContent = "";
render(html`<${App} />`, root);
