// What a front-end team writes against the generated types: every branch below compiles only
// while docs/openapi/*.json declare the problem schema, its `type` URIs, If-Match and the pages
// (docs/testing.md).
import createClient from "openapi-fetch";
import type { paths as BookingPaths } from "./generated/booking";
import type { components as LoungeComponents, paths as LoungePaths } from "./generated/lounge";

export function bookingClient(baseUrl: string, token: string) {
  return createClient<BookingPaths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });
}

export function loungeClient(baseUrl: string, token: string) {
  return createClient<LoungePaths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });
}

type Booking = ReturnType<typeof bookingClient>;
type Lounge = ReturnType<typeof loungeClient>;

/** A member enrolled with their ETag, or the field the form should mark. */
export type Enrolment =
  | { kind: "enrolled"; memberId: string; etag: string | null; replayed: boolean }
  | { kind: "invalid"; field: string | undefined; message: string | undefined }
  | { kind: "card_taken" }
  | { kind: "failed"; status: number; detail: string | null };

export async function enrolMember(
  booking: Booking,
  name: string,
  phone: string,
  idempotencyKey: string,
): Promise<Enrolment> {
  const { data, error, response } = await booking.POST("/v1/members", {
    params: { header: { "Idempotency-Key": idempotencyKey } },
    body: { name, phone, tier: "gold" },
  });
  if (data) {
    return {
      kind: "enrolled",
      memberId: data.id,
      etag: response.headers.get("ETag"),
      replayed: response.headers.get("Idempotent-Replay") === "true",
    };
  }
  if (error.type === "/problems/validation_error") {
    const first = error.errors?.[0];
    return { kind: "invalid", field: first?.field, message: first?.message };
  }
  if (error.type === "/problems/card_no_taken") {
    return { kind: "card_taken" };
  }
  // The error is typed: a property the problem body does not have fails to compile (with `any`
  // or `unknown` this expectation would itself fail, as unused or as the wrong error).
  // @ts-expect-error ProblemBody has no `reason`
  void error.reason;
  return { kind: "failed", status: error.status, detail: error.detail };
}

/** An order booked, or why not, by the problem's `type`. */
export type OrderBooking =
  | { kind: "booked"; orderId: string; status: string }
  | { kind: "needs_tier" }
  | { kind: "too_late"; detail: string | null }
  | { kind: "invalid"; field: string | undefined }
  | { kind: "failed"; status: number };

export async function bookMeetAndAssist(
  booking: Booking,
  memberId: string,
  idempotencyKey: string,
): Promise<OrderBooking> {
  const { data, error } = await booking.POST("/v1/orders", {
    params: { header: { "Idempotency-Key": idempotencyKey } },
    body: {
      member_id: memberId,
      station: "PEK",
      direction: "departure",
      flight: {
        carrier: "CA",
        number: "1234",
        flight_date: "2026-12-24",
        origin: "PEK",
        destination: "CTU",
      },
      items: [{ product: "meet_assist" }],
      passengers: [{ name: "Li Wei", ssr: ["WCHR"] }],
      channel: "app",
    },
  });
  if (data) {
    return { kind: "booked", orderId: data.id, status: data.status };
  }
  switch (error.type) {
    case "/problems/tier_required":
      return { kind: "needs_tier" };
    case "/problems/too_late":
      return { kind: "too_late", detail: error.detail };
    case "/problems/validation_error":
      return { kind: "invalid", field: error.errors?.[0]?.field };
  }
  // The `type` URIs are an enumeration per route: a slug this route cannot answer does not compile.
  // @ts-expect-error booking never answers lounge_full
  if (error.type === "/problems/lounge_full") {
    return { kind: "failed", status: 409 };
  }
  return { kind: "failed", status: error.status };
}

/** A change to a member, sent with the ETag read; 412 means someone changed it first. */
export type MemberChange =
  | { kind: "changed"; etag: string | null }
  | { kind: "changed_meanwhile"; status: number }
  | { kind: "failed"; status: number };

export async function renameMember(
  booking: Booking,
  memberId: string,
  etag: string,
  name: string,
): Promise<MemberChange> {
  const { data, error, response } = await booking.PATCH("/v1/members/{member_id}", {
    params: { path: { member_id: memberId }, header: { "If-Match": etag } },
    body: { name },
  });
  if (data) {
    return { kind: "changed", etag: response.headers.get("ETag") };
  }
  if (response.status === 412 && error.type === "/problems/precondition_failed") {
    return { kind: "changed_meanwhile", status: error.status };
  }
  return { kind: "failed", status: error.status };
}

// If-Match is required on every PATCH: a change without it does not compile.
type MemberChangeHeaders = BookingPaths["/v1/members/{member_id}"]["patch"]["parameters"]["header"];
// @ts-expect-error the header parameters need If-Match
({}) satisfies MemberChangeHeaders;

type VisitPage = LoungeComponents["schemas"]["VisitPublicPage"];

async function checkedInPage(lounge: Lounge, loungeId: string, cursor: string | null): Promise<VisitPage> {
  const { data, error } = await lounge.GET("/v1/lounges/{lounge_id}/visits", {
    params: {
      path: { lounge_id: loungeId },
      query: { status: "checked_in", limit: 50, cursor },
    },
  });
  if (error) {
    throw new Error(`${error.status} ${error.title}: ${error.detail ?? error.type}`);
  }
  return data;
}

/** A lounge's checked-in visits, every page read by following next_cursor. */
export async function checkedInVisits(lounge: Lounge, loungeId: string): Promise<string[]> {
  const names: string[] = [];
  let cursor: string | null = null;
  do {
    const page = await checkedInPage(lounge, loungeId, cursor);
    for (const visit of page.items) {
      names.push(visit.passenger_name ?? visit.id);
    }
    cursor = page.next_cursor ?? null;
  } while (cursor);
  return names;
}

/** Checking a member in; a 409 is told apart by its `type`. */
export async function checkIn(lounge: Lounge, loungeId: string, memberId: string): Promise<string> {
  const { data, error } = await lounge.POST("/v1/lounges/{lounge_id}/visits", {
    params: { path: { lounge_id: loungeId } },
    body: { member_id: memberId, guests: 1 },
  });
  if (data) {
    return `checked in: visit ${data.id}`;
  }
  switch (error.type) {
    case "/problems/lounge_full":
      return "the lounge is full: try again later";
    case "/problems/not_entitled":
      return "no entitlement: offer a paid visit";
    case "/problems/already_checked_in":
      return "already inside";
    default:
      return `${error.status}: ${error.title}`;
  }
}
