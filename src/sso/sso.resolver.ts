import { AuditFrom, type AuditRequest } from 'src/audit/audit-context';
import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { ADMIN_ROLE, RequireRoles } from 'src/common/decorators/roles.decorator';
import type { SsoClaimMappingConfig } from 'src/config/config.types';
import {
  CreateSsoProviderInput,
  type SsoClaimMappingsInput,
  UpdateSsoProviderInput,
} from 'src/sso/dto/sso-provider.input';
import { SsoProvider, toSsoProviderModel } from 'src/sso/models/sso-provider.model';
import {
  type SsoProvider as SsoProviderView,
  SsoProvidersService,
} from 'src/sso/sso-providers.service';

/** SSO provider administration (issue 9 §4). Every operation here needs the ADMIN role. */
@Resolver(() => SsoProvider)
@RequireRoles(ADMIN_ROLE)
export class SsoResolver {
  constructor(private readonly providers: SsoProvidersService) {}

  @Query(() => [SsoProvider], {
    description:
      'Every SSO provider: the configuration one first (read-only), then runtime ones (ADMIN)',
  })
  async ssoProviders(): Promise<SsoProvider[]> {
    return (await this.providers.list()).map((p) => this.model(p));
  }

  @Mutation(() => SsoProvider, {
    description:
      'Add an SSO provider; its authority must be a trusted issuer. Register callbackUrl and logoutRedirectUrl at the provider (ADMIN)',
  })
  async createSsoProvider(
    @Args('input') input: CreateSsoProviderInput,
    @AuditFrom() from: AuditRequest,
  ): Promise<SsoProvider> {
    const { claimMappings, forwardedParameters, ...rest } = input;
    const draft = Object.fromEntries(
      Object.entries(rest).filter(([, v]) => v !== null && v !== undefined),
    ) as unknown as Omit<CreateSsoProviderInput, 'claimMappings' | 'forwardedParameters'>;
    return this.model(
      await this.providers.create(
        {
          ...draft,
          ...(claimMappings ? { claims: claimsOf(claimMappings, false) } : {}),
          ...(forwardedParameters ? { forwardParams: forwardedParameters } : {}),
        },
        from,
      ),
    );
  }

  @Mutation(() => SsoProvider, {
    description:
      'Change a runtime SSO provider; clientSecret omitted keeps it, null removes it (ADMIN)',
  })
  async updateSsoProvider(
    @Args('id', { type: () => ID }) id: string,
    @Args('input') input: UpdateSsoProviderInput,
    @AuditFrom() from: AuditRequest,
  ): Promise<SsoProvider> {
    const { claimMappings, forwardedParameters, clientSecret, ...rest } = input;
    const patch = Object.fromEntries(
      Object.entries(rest).filter(([, v]) => v !== null && v !== undefined),
    );
    return this.model(
      await this.providers.update(
        id,
        {
          ...patch,
          ...(clientSecret !== undefined ? { clientSecret } : {}),
          ...(claimMappings ? { claims: claimsOf(claimMappings, true) } : {}),
          ...(forwardedParameters ? { forwardParams: forwardedParameters } : {}),
        },
        from,
      ),
    );
  }

  @Mutation(() => Boolean, { description: 'Remove a runtime SSO provider (ADMIN)' })
  deleteSsoProvider(
    @Args('id', { type: () => ID }) id: string,
    @AuditFrom() from: AuditRequest,
  ): Promise<boolean> {
    return this.providers.delete(id, from);
  }

  private model(p: SsoProviderView): SsoProvider {
    return toSsoProviderModel(p, {
      callbackUrl: this.providers.callbackUrl(p.name),
      logoutRedirectUrl: this.providers.logoutRedirectUrl(p.name),
    });
  }
}

/** The given mappings only; on update a null lastName means "no last name claim". */
function claimsOf(input: SsoClaimMappingsInput, update: boolean): Partial<SsoClaimMappingConfig> {
  const out: Partial<SsoClaimMappingConfig> = {};
  if (input.email) out.email = input.email;
  if (input.firstName) out.firstName = input.firstName;
  if (input.lastName !== undefined && (input.lastName !== null || update))
    out.lastName = input.lastName;
  if (input.custom)
    out.custom = input.custom.map((c) => ({ claim: c.claim, attribute: c.attribute }));
  return out;
}
