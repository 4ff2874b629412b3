import { AuditFrom, type AuditRequest } from 'src/audit/audit-context';
import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { ClientsService } from 'src/clients/clients.service';
import {
  ClientIdArgs,
  ClientsArgs,
  SetClientJwksArgs,
  UpdateClientArgs,
} from 'src/clients/dto/clients.args';
import { CreateClientInput } from 'src/clients/dto/create-client.input';
import {
  Client,
  ClientConnection,
  ClientWithSecret,
  toClientModel,
} from 'src/clients/models/client.model';
import { ADMIN_ROLE, RequireRoles } from 'src/common/decorators/roles.decorator';

/** OAuth client administration (ADMIN only). */
@Resolver(() => Client)
@RequireRoles(ADMIN_ROLE)
export class ClientsResolver {
  constructor(private readonly service: ClientsService) {}

  @Query(() => ClientConnection, {
    description: 'OAuth clients, oldest first, as a cursor connection (ADMIN)',
    complexity: (o) => 2 + Number(o.args.first ?? 50) * Math.max(1, o.childComplexity),
  })
  async clients(@Args() args: ClientsArgs): Promise<ClientConnection> {
    const page = await this.service.list(args);
    return {
      edges: page.items.map((i) => ({ cursor: i.cursor, node: toClientModel(i.client) })),
      pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.items.at(-1)?.cursor ?? null },
      totalCount: page.totalCount,
    };
  }

  @Mutation(() => ClientWithSecret, {
    description:
      'Register a client; its secret is in the answer and never again (none for PRIVATE_KEY_JWT) (ADMIN)',
  })
  async createClient(
    @Args('input') input: CreateClientInput,
    @AuditFrom() from: AuditRequest,
  ): Promise<ClientWithSecret> {
    const { client, secret } = await this.service.create(input, from);
    return { client: toClientModel(client), clientSecret: secret };
  }

  @Mutation(() => ClientWithSecret, {
    description: 'Replace the secret at once: the old one stops working (ADMIN)',
  })
  async rotateClientSecret(
    @Args() { id }: ClientIdArgs,
    @AuditFrom() from: AuditRequest,
  ): Promise<ClientWithSecret> {
    const { client, secret } = await this.service.rotateSecret(id, from);
    return { client: toClientModel(client), clientSecret: secret };
  }

  @Mutation(() => Client, {
    description:
      "Replace a PRIVATE_KEY_JWT client's public keys at once: assertions signed by a removed key fail (ADMIN)",
  })
  async setClientJwks(
    @Args() { id, jwks }: SetClientJwksArgs,
    @AuditFrom() from: AuditRequest,
  ): Promise<Client> {
    return toClientModel(await this.service.setJwks(id, jwks, from));
  }

  @Mutation(() => Client, {
    description:
      'Change a client’s name, grants, scopes or exchange policy, on every node at once (ADMIN). Its project never changes; its roles are its principal’s (setActorRoles)',
  })
  async updateClient(
    @Args() { id, input }: UpdateClientArgs,
    @AuditFrom() from: AuditRequest,
  ): Promise<Client> {
    return toClientModel(await this.service.update(id, input, from));
  }

  @Mutation(() => Client, {
    description:
      'Let a disabled client authenticate again; its earlier tokens stay revoked (ADMIN)',
  })
  async enableClient(
    @Args() { id }: ClientIdArgs,
    @AuditFrom() from: AuditRequest,
  ): Promise<Client> {
    return toClientModel(await this.service.enable(id, from));
  }

  @Mutation(() => Client, {
    description: 'Refuse the client and revoke every token issued to it, on every node (ADMIN)',
  })
  async disableClient(
    @Args() { id }: ClientIdArgs,
    @AuditFrom() from: AuditRequest,
  ): Promise<Client> {
    return toClientModel(await this.service.disable(id, from));
  }
}
