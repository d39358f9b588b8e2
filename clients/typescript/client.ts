// A small typed client of catalog-api: the README's requests, against types that
// openapi-typescript generates from openapi.yaml at its default options.
// scripts/check-clients compiles it with `tsc --strict` (see tsconfig.json); it is never run there.
import type { components, paths } from "./schema";

type Schemas = components["schemas"];
type Json<Path extends keyof paths, Method extends keyof paths[Path], Status extends number> =
  paths[Path][Method] extends { responses: Record<Status, { content: { "application/json": infer Body } }> }
    ? Body
    : never;
type ProductQuery = NonNullable<paths["/api/v1/products"]["get"]["parameters"]["query"]>;

export class CatalogClient {
  constructor(
    private readonly base: string,
    private token?: string,
  ) {}

  async register(body: Schemas["UserRegister"]): Promise<Json<"/api/v1/auth/register", "post", 201>> {
    return this.send("POST", "/api/v1/auth/register", body);
  }

  async login(username: string, password: string): Promise<Schemas["TokenPair"]> {
    const form: Schemas["LoginForm"] = { username, password };
    const response = await fetch(`${this.base}/api/v1/auth/login`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ username: form.username, password: form.password }),
    });
    const tokens = (await this.read(response)) as Json<"/api/v1/auth/login", "post", 200>;
    this.token = tokens.access_token;
    return tokens;
  }

  async listProducts(query: ProductQuery): Promise<Schemas["ProductPage"]> {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined) params.set(name, String(value));
    }
    return this.send("GET", `/api/v1/products?${params.toString()}`);
  }

  async createProduct(body: Schemas["ProductCreate"]): Promise<Schemas["Product"]> {
    return this.send("POST", "/api/v1/products", body);
  }

  async updateProduct(id: string, body: Schemas["ProductUpdate"]): Promise<Schemas["Product"]> {
    return this.send("PUT", `/api/v1/products/${encodeURIComponent(id)}`, body);
  }

  private async send<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.token !== undefined) headers["Authorization"] = `Bearer ${this.token}`;
    const init: RequestInit = { method, headers };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return (await this.read(await fetch(`${this.base}${path}`, init))) as T;
  }

  private async read(response: Response): Promise<unknown> {
    if (!response.ok) {
      const problem = (await response.json()) as Schemas["Problem"];
      throw new Error(`${problem.status} ${problem.title}: ${problem.detail}`);
    }
    return response.json();
  }
}

// The README's request bodies, exactly as written there.
export async function readmeFlow(base: string, adminPassword: string): Promise<string> {
  const client = new CatalogClient(base);
  await client.register({ email: "user@example.com", username: "user1", password: "SecurePass123" });
  await client.login("user1", "SecurePass123");
  await client.login("admin", adminPassword);
  const product = await client.createProduct({ name: "New Product", price: 29.99, sku: "SKU-001", category: "Electronics" });
  const page = await client.listProducts({ category: "Electronics", min_price: 10, sort_by: "price", sort_order: "asc" });
  const updated = await client.updateProduct(product.id, { price: 24.99, stock: 5 });
  return `${page.total} listed; ${updated.name} (${updated.sku}) at ${updated.price.toFixed(2)}, ${updated.stock} in stock`;
}
